import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { ResultView } from './ResultView'

describe('ResultView', () => {
  it('renders an array of objects as a table with a column per key', () => {
    render(
      <ResultView
        label="Employees"
        value={[
          { id: 'E001', name: 'Sarah Johnson', manager_id: null },
          { id: 'E002', name: 'Ben Ode', location: 'Lagos', tags: ['a', 'b'] },
        ]}
      />,
    )
    const table = screen.getByRole('table')
    const headers = within(table).getAllByRole('columnheader').map((h) => h.textContent)
    expect(headers).toEqual(['ID', 'Name', 'Manager ID', 'Location', 'Tags'])
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows).toHaveLength(2)
    expect(within(rows[0]).getAllByRole('cell').map((c) => c.textContent)).toEqual(['E001', 'Sarah Johnson', '—', '—', '—'])
    expect(within(rows[1]).getAllByRole('cell').map((c) => c.textContent)).toEqual(['E002', 'Ben Ode', '—', 'Lagos', 'a, b'])
    expect(screen.getByRole('region', { name: 'Employees: 2 rows' })).toBeInTheDocument()
  })

  it('renders an object as key/value rows, nesting tables and marking redacted values', () => {
    render(<ResultView value={{ name: 'Sarah Johnson', salary: '[REDACTED]', reports: [{ id: 'E002' }] }} />)
    expect(screen.getByRole('rowheader', { name: 'Name' })).toBeInTheDocument()
    expect(screen.getByText('Sarah Johnson')).toBeInTheDocument()
    expect(screen.getByTitle('Hidden: this value is sensitive')).toHaveTextContent('redacted')
    expect(screen.getByRole('region', { name: 'Reports: 1 row' })).toBeInTheDocument()
  })

  it('shows the first 50 rows and offers the rest', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ n: i }))
    render(<ResultView value={rows} />)
    expect(screen.getAllByRole('row')).toHaveLength(51)
    await userEvent.click(screen.getByRole('button', { name: 'Show all 60 rows' }))
    expect(screen.getAllByRole('row')).toHaveLength(61)
  })

  it('says so when there is nothing', () => {
    render(<ResultView value={[]} />)
    expect(screen.getByText('No items')).toBeInTheDocument()
  })
})
