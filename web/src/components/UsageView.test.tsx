import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { createApi } from '../api/client'
import type { UsageReport, UsersUsage } from '../api/types'
import { UsageView } from './UsageView'

const totals = (prompt: number, completion: number, calls: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  calls,
})

function report(over: Partial<UsageReport> = {}): UsageReport {
  return {
    user_id: 'alice',
    since: '2026-11-02T00:00:00Z',
    today: totals(1200, 300, 3),
    today_models: [{ model: 'gpt-4o-mini', ...totals(1200, 300, 3) }],
    period: totals(5200, 800, 9),
    models: [
      { model: 'gpt-4o-mini', ...totals(5000, 700, 8) },
      { model: 'mock', ...totals(200, 100, 1) },
    ],
    days: [
      { date: '2026-11-30', ...totals(4000, 500, 6) },
      { date: '2026-12-01', ...totals(1200, 300, 3) },
    ],
    budget: { tokens_per_day: 10000, remaining: 8500, exceeded: false, resets_at: '2026-12-02T00:00:00Z' },
    ...over,
  }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })

/** harness renders the page against scripted answers by path and records every request. */
function harness(answers: Record<string, Response[]>, isAdmin = false) {
  const requests: URL[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    requests.push(url)
    const next = answers[url.pathname]?.shift()
    if (!next) return new Promise<Response>(() => undefined)
    return next
  })
  const onUnauthorized = vi.fn()
  const api = createApi({ baseUrl: 'http://gateway.test', token: () => 'tok', fetch: fetch as unknown as typeof globalThis.fetch })
  render(<UsageView api={api} isAdmin={isAdmin} onUnauthorized={onUnauthorized} />)
  return { requests, onUnauthorized }
}

/** cellsOf reads a table's rows as the text of their cells. */
const cellsOf = (el: HTMLElement) => Array.from(el.querySelectorAll('tr'), (r) => Array.from(r.children, (c) => c.textContent))

describe('UsageView', () => {
  it("shows today's tokens against the allowance, by model and by day", async () => {
    const h = harness({ '/usage': [json(report())] })
    const today = await screen.findByTestId('usage-today')
    expect(today).toHaveTextContent('1,500 of 10,000 tokens used (15%)')
    expect(today).toHaveTextContent('8,500 left')
    expect(within(today).getByRole('meter')).toHaveAttribute('aria-valuenow', '1500')
    expect(h.requests.map((u) => u.pathname + u.search)).toEqual(['/usage?days=30'])

    const rows = cellsOf(screen.getByRole('region', { name: 'Tokens by model, last 30 days' }))
    expect(rows).toEqual([
      ['Model', 'Prompt', 'Completion', 'Total', 'Calls'],
      ['gpt-4o-mini', '5,000', '700', '5,700', '8'],
      ['mock', '200', '100', '300', '1'],
      ['All models', '5,200', '800', '6,000', '9'],
    ])
    const days = screen.getByRole('list', { name: 'Tokens per UTC day' })
    expect(Array.from(days.querySelectorAll('li'), (li) => li.textContent)).toEqual(['2026-11-304,500', '2026-12-011,500'])
    expect(screen.queryByText(/Everyone/)).not.toBeInTheDocument()
  })

  it('says plainly when the allowance is spent', async () => {
    harness({
      '/usage': [json(report({ today: totals(9000, 1200, 4), budget: { tokens_per_day: 10000, remaining: 0, exceeded: true, resets_at: '2026-12-02T00:00:00Z' } }))],
    })
    expect(await screen.findByRole('alert')).toHaveTextContent('Your allowance is spent: new messages are not run until it resets')
    expect(screen.getByTestId('usage-today')).toHaveTextContent('10,200 of 10,000 tokens used (100%)')
  })

  it('says so when there is no allowance and no usage', async () => {
    harness({
      '/usage': [json(report({ today: totals(0, 0, 0), models: [], days: [], budget: { tokens_per_day: 0, remaining: 0, exceeded: false, resets_at: '2026-12-02T00:00:00Z' } }))],
    })
    expect(await screen.findByTestId('usage-today')).toHaveTextContent('0 tokens used today; there is no daily allowance.')
    expect(screen.getByText('No LLM usage in the last 30 days.')).toBeInTheDocument()
  })

  it("shows admins everyone's usage, the most tokens first", async () => {
    const everyone: UsersUsage = {
      since: '2026-11-02T00:00:00Z',
      tokens_per_day: 10000,
      users: [
        { user_id: 'bob', today: totals(0, 0, 0), period: totals(9000, 1000, 12), models: [{ model: 'gpt-4o-mini', ...totals(9000, 1000, 12) }] },
        { user_id: 'alice', today: totals(1200, 300, 3), period: totals(5200, 800, 9), models: [{ model: 'gpt-4o-mini', ...totals(5000, 700, 8) }, { model: 'mock', ...totals(200, 100, 1) }] },
      ],
    }
    const h = harness({ '/usage': [json(report())], '/usage/users': [json(everyone)] }, true)
    const region = await screen.findByRole('region', { name: 'Tokens by user, last 30 days' })
    const rows = cellsOf(region)
    expect(rows).toEqual([
      ['User', 'Today', 'Prompt', 'Completion', 'Total', 'Calls'],
      ['bob gpt-4o-mini: 10,000', '0', '9,000', '1,000', '10,000', '12'],
      ['alice gpt-4o-mini: 5,700, mock: 300', '1,500', '5,200', '800', '6,000', '9'],
    ])
    expect(h.requests.map((u) => u.pathname).sort()).toEqual(['/usage', '/usage/users'])
  })

  it('shows an error with a way to try again', async () => {
    const h = harness({ '/usage': [json({ title: 'Service Unavailable', status: 503, detail: 'could not read the usage' }, 503), json(report())] })
    expect(await screen.findByRole('alert')).toHaveTextContent('could not read the usage')
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findByTestId('usage-today')).toBeInTheDocument()
    expect(h.requests).toHaveLength(2)
  })

  it('asks to sign in again when the token is refused', async () => {
    const h = harness({ '/usage': [json({ title: 'Unauthorized', status: 401, detail: 'expired' }, 401)] })
    await vi.waitFor(() => expect(h.onUnauthorized).toHaveBeenCalled())
  })
})
