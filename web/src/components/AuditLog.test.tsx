import { fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { createApi } from '../api/client'
import type { AuditRecord } from '../api/types'
import { AuditLog } from './AuditLog'

function record(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: 1,
    at: '2026-11-24T08:03:10Z',
    user_id: 'carol',
    roles: ['sre'],
    tool: 'devops.scale_deployment',
    domain: 'devops',
    params: { deployment: 'api-server', replicas: 3, api_token: '[REDACTED]' },
    outcome: 'succeeded',
    error: '',
    result: { deployment: 'api-server', replicas: 3 },
    duration_ms: 42,
    workflow_id: 'chat-f3e1a39f-2',
    run_id: 'run-1',
    tool_call_id: 'step1-call_1',
    approver: 'dan',
    trace_id: '',
    ...over,
  }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })

/** harness renders the view against scripted answers and records the query of every request. */
function harness(answers: Response[]) {
  const queries: URLSearchParams[] = []
  const paths: string[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    paths.push(url.pathname)
    queries.push(url.searchParams)
    const next = answers.shift()
    if (!next) return new Promise<Response>(() => undefined) // no more answers: stay loading
    return next
  })
  const onUnauthorized = vi.fn()
  const api = createApi({ baseUrl: 'http://gateway.test', token: () => 'tok', fetch: fetch as unknown as typeof globalThis.fetch })
  render(<AuditLog api={api} onUnauthorized={onUnauthorized} />)
  return { queries, paths, fetch, onUnauthorized }
}

const params = (q: URLSearchParams) => Object.fromEntries(q.entries())

describe('AuditLog', () => {
  it('loads the newest records and shows them as a table', async () => {
    const h = harness([
      json({
        records: [
          record(),
          record({ id: 2, user_id: 'bob', roles: ['finance_clerk'], tool: 'hr.get_employee', domain: 'hr', outcome: 'denied', approver: '', duration_ms: 0, result: undefined, error: 'bob may not call hr.get_employee' }),
        ],
      }),
    ])
    const table = await screen.findByRole('table')
    expect(h.paths).toEqual(['/audit'])
    expect(params(h.queries[0])).toEqual({ limit: '50' })
    const headers = within(table).getAllByRole('columnheader').map((c) => c.textContent)
    expect(headers).toEqual(['Time', 'User', 'Tool', 'Outcome', 'Approver', 'Duration', 'Error'])

    const carol = screen.getByRole('button', { name: /^Details of devops\.scale_deployment by carol/ }).closest('tr')!
    expect(within(carol).getByText('devops', { selector: '.domain-chip' })).toBeInTheDocument()
    expect(within(carol).getByText('Succeeded')).toHaveClass('badge', 'outcome-succeeded')
    expect(within(carol).getByRole('cell', { name: 'dan' })).toBeInTheDocument()
    expect(within(carol).getByText('42 ms')).toBeInTheDocument()

    const bob = screen.getByRole('button', { name: /^Details of hr\.get_employee by bob/ }).closest('tr')!
    expect(within(bob).getByText('Denied')).toHaveClass('badge', 'outcome-denied')
    expect(within(bob).getByText('bob may not call hr.get_employee')).toBeInTheDocument()
    expect(screen.getByText('2 records, newest first.')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument()
  })

  it('builds the query from the filters', async () => {
    const user = userEvent.setup()
    const h = harness([json({ records: [] }), json({ records: [record()] }), json({ records: [] })])
    await screen.findByText('Nothing has been recorded yet.')

    await user.type(screen.getByLabelText('User'), '  carol ')
    await user.type(screen.getByLabelText('Tool'), 'devops.*')
    await user.selectOptions(screen.getByLabelText('Outcome'), 'Denied')
    fireEvent.change(screen.getByLabelText('Since'), { target: { value: '2026-11-24T09:30' } })
    fireEvent.change(screen.getByLabelText('Until'), { target: { value: '2026-11-25T18:00' } })
    await user.click(screen.getByRole('button', { name: 'Apply filters' }))

    await screen.findByRole('table')
    expect(h.queries).toHaveLength(2)
    expect(params(h.queries[1])).toEqual({
      limit: '50',
      user: 'carol',
      tool: 'devops.*',
      outcome: 'denied',
      // datetime-local values are local times; the server gets them in UTC.
      since: new Date(2026, 10, 24, 9, 30).toISOString().replace('.000Z', 'Z'),
      until: new Date(2026, 10, 25, 18, 0).toISOString().replace('.000Z', 'Z'),
    })

    // Clearing drops every filter.
    await user.click(screen.getByRole('button', { name: 'Clear' }))
    await screen.findByText('Nothing has been recorded yet.')
    expect(params(h.queries[2])).toEqual({ limit: '50' })
    expect(screen.getByLabelText('User')).toHaveValue('')
    expect(screen.getByLabelText('Outcome')).toHaveValue('')
  })

  it('says when no record matches the filters', async () => {
    const user = userEvent.setup()
    harness([json({ records: [record()] }), json({ records: [] })])
    await screen.findByRole('table')
    await user.selectOptions(screen.getByLabelText('Outcome'), 'expired')
    await user.click(screen.getByRole('button', { name: 'Apply filters' }))
    expect(await screen.findByText('No records match these filters.')).toBeInTheDocument()
    expect(screen.queryByRole('table')).not.toBeInTheDocument()
  })

  it('refuses a time range that ends before it starts, without asking the server', async () => {
    const user = userEvent.setup()
    const h = harness([json({ records: [] })])
    await screen.findByText('Nothing has been recorded yet.')
    fireEvent.change(screen.getByLabelText('Since'), { target: { value: '2026-11-25T10:00' } })
    fireEvent.change(screen.getByLabelText('Until'), { target: { value: '2026-11-24T10:00' } })
    await user.click(screen.getByRole('button', { name: 'Apply filters' }))
    expect(screen.getByRole('alert')).toHaveTextContent('“Until” must be later than “Since”.')
    expect(h.fetch).toHaveBeenCalledTimes(1)
  })

  it('appends the next page with the cursor and the same filters', async () => {
    const user = userEvent.setup()
    const h = harness([
      json({ records: [record({ id: 9 })] }),
      json({ records: [record({ id: 8, user_id: 'carol' }), record({ id: 7 })], next_cursor: 'c-1' }),
      json({ records: [record({ id: 6, user_id: 'carol', approver: 'admin' })] }),
    ])
    await screen.findByRole('table')
    await user.type(screen.getByLabelText('User'), 'carol{Enter}')
    await waitFor(() => expect(screen.getAllByRole('button', { name: /^Details of / })).toHaveLength(2))
    expect(screen.getByText('2 records, newest first; more are available.')).toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(screen.getAllByRole('button', { name: /^Details of / })).toHaveLength(3))
    expect(params(h.queries[2])).toEqual({ limit: '50', user: 'carol', cursor: 'c-1' })
    // Appended after the first page, in order; the last page has no "Load more".
    const approvers = screen.getAllByRole('row').slice(1).map((r) => within(r).getAllByRole('cell')[4].textContent)
    expect(approvers).toEqual(['dan', 'dan', 'admin'])
    expect(screen.getByText('3 records, newest first.')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument()
  })

  it('keeps the rows and offers to retry when a further page fails', async () => {
    const user = userEvent.setup()
    harness([json({ records: [record()], next_cursor: 'c-1' }), json({ title: 'Internal Server Error', detail: 'could not read the audit log', status: 500 }, 500)])
    await user.click(await screen.findByRole('button', { name: 'Load more' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('could not read the audit log')
    expect(screen.getAllByRole('button', { name: /^Details of / })).toHaveLength(1)
    expect(screen.getByRole('button', { name: 'Load more' })).toBeEnabled()
  })

  it('expands a row to the redacted parameters, the result and the workflow ID', async () => {
    const user = userEvent.setup()
    harness([json({ records: [record()] })])
    const toggle = await screen.findByRole('button', { name: /^Details of devops\.scale_deployment by carol/ })
    expect(toggle).toHaveAttribute('aria-expanded', 'false')
    await user.click(toggle)
    expect(toggle).toHaveAttribute('aria-expanded', 'true')

    const paramsBox = screen.getByRole('region', { name: 'Parameters of devops.scale_deployment' })
    expect(within(paramsBox).getByRole('rowheader', { name: 'Replicas' })).toBeInTheDocument()
    expect(within(paramsBox).getByText('redacted')).toHaveClass('redacted')
    expect(within(screen.getByRole('region', { name: 'Result of devops.scale_deployment' })).getByText('api-server')).toBeInTheDocument()
    expect(screen.getByText('chat-f3e1a39f-2')).toBeInTheDocument()

    await user.click(toggle)
    expect(screen.queryByText('chat-f3e1a39f-2')).not.toBeInTheDocument()
  })

  it('tells users without the auditor role that they may not read the log', async () => {
    harness([json({ title: 'Forbidden', status: 403, detail: 'only auditors and admins may read the audit log' }, 403)])
    expect(await screen.findByRole('alert')).toHaveTextContent('Only auditors and admins can read the audit log')
    expect(screen.queryByRole('search')).not.toBeInTheDocument()
    expect(screen.queryByRole('table')).not.toBeInTheDocument()
  })

  it('shows other errors with a way to try again', async () => {
    const user = userEvent.setup()
    const h = harness([json({ title: 'Bad Request', status: 400, detail: 'the cursor is not valid; start again without it' }, 400), json({ records: [record()] })])
    expect(await screen.findByRole('alert')).toHaveTextContent('the cursor is not valid; start again without it')
    await user.click(screen.getByRole('button', { name: 'Try again' }))
    await screen.findByRole('table')
    expect(h.fetch).toHaveBeenCalledTimes(2)
  })

  it('asks to sign in again when the session has ended', async () => {
    const h = harness([json({ title: 'Unauthorized', status: 401 }, 401)])
    await waitFor(() => expect(h.onUnauthorized).toHaveBeenCalled())
  })
})
