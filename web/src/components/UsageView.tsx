// LLM usage: the signed-in user's tokens today against the daily budget, by model and by day
// over the last 30 days, and, for admins, everyone's (the server decides who may read it).
import { useEffect, useRef, useState } from 'react'
import { ApiError, must, type Api } from '../api/client'
import type { UsageReport, UsageTotals, UsersUsage } from '../api/types'
import { absolute, relative } from '../lib/format'
import { RefreshIcon } from './Icons'

const DAYS = 30
const count = new Intl.NumberFormat()

/** tokens formats a token count: "12,345". */
export function tokens(n: number | undefined): string {
  return count.format(n ?? 0)
}

type Load<T> = { kind: 'loading' } | { kind: 'ready'; data: T } | { kind: 'error'; message: string } | { kind: 'forbidden' }

/** useLoad runs one GET per reload, dropping answers that arrive after the view moved on. */
function useLoad<T>(fetcher: (signal: AbortSignal) => Promise<T>, reload: number, onUnauthorized: () => void): Load<T> {
  const [state, setState] = useState<Load<T>>({ kind: 'loading' })
  // The latest fetcher, so that a new closure each render does not refetch; reload does.
  const latest = useRef(fetcher)
  latest.current = fetcher
  useEffect(() => {
    const ctl = new AbortController()
    setState({ kind: 'loading' })
    latest.current(ctl.signal)
      .then((data) => !ctl.signal.aborted && setState({ kind: 'ready', data }))
      .catch((e: unknown) => {
        if (ctl.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return
        if (e instanceof ApiError && e.status === 401) return onUnauthorized()
        if (e instanceof ApiError && e.status === 403) return setState({ kind: 'forbidden' })
        setState({ kind: 'error', message: e instanceof Error ? e.message : String(e) })
      })
    return () => ctl.abort()
  }, [reload, onUnauthorized])
  return state
}

export function UsageView({ api, isAdmin, onUnauthorized }: { api: Api; isAdmin: boolean; onUnauthorized: () => void }) {
  const [reload, setReload] = useState(0)
  const own = useLoad<UsageReport>(
    (signal) => must(api.GET('/usage', { params: { query: { days: DAYS } }, signal })),
    reload,
    onUnauthorized,
  )
  return (
    <section className="page page-wide" aria-labelledby="usage-h">
      <header className="page-head">
        <div>
          <h1 id="usage-h">Usage</h1>
          <p className="muted">LLM tokens your chats used: today against your daily allowance, and the last {DAYS} days by model.</p>
        </div>
        <button type="button" className="icon-button" aria-label="Refresh the usage" onClick={() => setReload((n) => n + 1)}>
          <RefreshIcon />
        </button>
      </header>
      {own.kind === 'loading' && (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> Loading your usage…
        </div>
      )}
      {own.kind === 'error' && (
        <div className="form-error" role="alert">
          <span>{own.message}</span>{' '}
          <button type="button" className="link-button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {own.kind === 'ready' && <OwnUsage report={own.data} />}
      {isAdmin && <EveryoneUsage api={api} reload={reload} onUnauthorized={onUnauthorized} />}
    </section>
  )
}

function OwnUsage({ report }: { report: UsageReport }) {
  const { budget, today } = report
  const limit = budget.tokens_per_day
  const share = limit > 0 ? Math.min(100, Math.round((today.total_tokens / limit) * 100)) : 0
  const peak = Math.max(1, ...(report.days ?? []).map((d) => d.total_tokens))
  return (
    <>
      <div className="usage-today" data-testid="usage-today">
        <h2>Today</h2>
        {limit > 0 ? (
          <>
            <p>
              <strong>{tokens(today.total_tokens)}</strong> of {tokens(limit)} tokens used ({share}%) ·{' '}
              {budget.exceeded ? (
                <span className="usage-exceeded" role="alert">
                  Your allowance is spent: new messages are not run until it resets {relative(budget.resets_at)}.
                </span>
              ) : (
                <span>{tokens(budget.remaining)} left</span>
              )}
            </p>
            <div
              className="usage-meter"
              role="meter"
              aria-label="Today's tokens against your allowance"
              aria-valuemin={0}
              aria-valuemax={limit}
              aria-valuenow={Math.min(today.total_tokens, limit)}
            >
              <span style={{ width: `${share}%` }} />
            </div>
            <p className="muted">
              Resets <span title={absolute(budget.resets_at)}>{relative(budget.resets_at)}</span> (00:00 UTC).
            </p>
          </>
        ) : (
          <p>
            <strong>{tokens(today.total_tokens)}</strong> tokens used today; there is no daily allowance.
          </p>
        )}
      </div>

      <h2>Last {DAYS} days by model</h2>
      {(report.models ?? []).length === 0 ? (
        <p className="empty-title">No LLM usage in the last {DAYS} days.</p>
      ) : (
        <TotalsTable
          label={`Tokens by model, last ${DAYS} days`}
          first="Model"
          rows={(report.models ?? []).map((m) => ({ key: m.model, name: m.model, totals: m }))}
          total={report.period}
        />
      )}

      {(report.days ?? []).length > 0 && (
        <>
          <h2>By day</h2>
          <ul className="usage-days" aria-label="Tokens per UTC day">
            {(report.days ?? []).map((d) => (
              <li key={d.date}>
                <span className="usage-day">{d.date}</span>
                <span className="usage-bar" aria-hidden="true">
                  <span style={{ width: `${Math.max(1, Math.round((d.total_tokens / peak) * 100))}%` }} />
                </span>
                <span className="usage-count">{tokens(d.total_tokens)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  )
}

function EveryoneUsage({ api, reload, onUnauthorized }: { api: Api; reload: number; onUnauthorized: () => void }) {
  const all = useLoad<UsersUsage>(
    (signal) => must(api.GET('/usage/users', { params: { query: { days: DAYS } }, signal })),
    reload,
    onUnauthorized,
  )
  return (
    <div className="usage-everyone">
      <h2>Everyone, last {DAYS} days</h2>
      {all.kind === 'loading' && (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> Loading everyone's usage…
        </div>
      )}
      {all.kind === 'forbidden' && <p className="muted">Only admins can read everyone's usage.</p>}
      {all.kind === 'error' && (
        <p className="form-error" role="alert">
          {all.message}
        </p>
      )}
      {all.kind === 'ready' &&
        ((all.data.users ?? []).length === 0 ? (
          <p className="empty-title">Nobody used the LLM in the last {DAYS} days.</p>
        ) : (
          <TotalsTable
            label={`Tokens by user, last ${DAYS} days`}
            first="User"
            rows={(all.data.users ?? []).map((u) => ({
              key: u.user_id,
              name: u.user_id,
              detail: (u.models ?? []).map((m) => `${m.model}: ${tokens(m.total_tokens)}`).join(', '),
              today: u.today,
              totals: u.period,
            }))}
          />
        ))}
    </div>
  )
}

type Row = { key: string; name: string; detail?: string; today?: UsageTotals; totals: UsageTotals }

function TotalsTable({ label, first, rows, total }: { label: string; first: string; rows: Row[]; total?: UsageTotals }) {
  const withToday = rows.some((r) => r.today)
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table className="grid usage-table">
        <thead>
          <tr>
            <th scope="col">{first}</th>
            {withToday && <th scope="col">Today</th>}
            <th scope="col">Prompt</th>
            <th scope="col">Completion</th>
            <th scope="col">Total</th>
            <th scope="col">Calls</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">
                {r.name}
                {r.detail && <span className="muted usage-detail"> {r.detail}</span>}
              </th>
              {withToday && <td>{tokens(r.today?.total_tokens)}</td>}
              <td>{tokens(r.totals.prompt_tokens)}</td>
              <td>{tokens(r.totals.completion_tokens)}</td>
              <td>{tokens(r.totals.total_tokens)}</td>
              <td>{tokens(r.totals.calls)}</td>
            </tr>
          ))}
        </tbody>
        {total && (
          <tfoot>
            <tr>
              <th scope="row">All models</th>
              <td>{tokens(total.prompt_tokens)}</td>
              <td>{tokens(total.completion_tokens)}</td>
              <td>{tokens(total.total_tokens)}</td>
              <td>{tokens(total.calls)}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  )
}
