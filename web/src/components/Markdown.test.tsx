import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Markdown } from './Markdown'

describe('Markdown', () => {
  it('puts a table in a scroll frame and keeps hyphenated names on one line', () => {
    render(<Markdown text={'| Name | Node |\n|---|---|\n| api-server-p52h2hgn4-f4b4k | node-pool-b-1 |'} />)
    expect(screen.getByRole('region', { name: 'Table' })).toContainElement(screen.getByRole('table'))
    const cell = screen.getByRole('cell', { name: 'node-pool-b-1' })
    expect(cell.querySelector('.nowrap')).toHaveTextContent('node-pool-b-1')
  })
})
