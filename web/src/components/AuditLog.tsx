// The audit log, for auditors and admins: every tool execution attempt (allowed, denied, invalid,
// failed, rejected, expired), newest first, filtered by user, tool, outcome and time, paged with
// the server's cursor. Parameters and results arrive redacted; the server decides who may read.
import { useEffect, useId, useRef, useState, type FormEvent, type MouseEvent } from 'react'
import { ApiError, must, type Api } from '../api/client'
import type { AuditRecord } from '../api/types'
import {
  auditQuery,
  filterProblem,
  hasFilters,
  isOutcome,
  NO_FILTERS,
  OUTCOMES,
  outcomeLabel,
  type AuditFilters,
} from '../lib/audit'
import { absolute, duration, relative, timestamp } from '../lib/format'
import { roleName } from '../lib/roles'
import { ChevronIcon, RefreshIcon } from './Icons'
import { ResultView } from './ResultView'

export const FORBIDDEN_MESSAGE = 'Only auditors and admins can read the audit log.'

const COLUMNS = ['Time', 'User', 'Tool', 'Outcome', 'Approver', 'Duration', 'Error'] as const

type Phase = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string } | { kind: 'forbidden' }

/** failure turns a failed call into what to show; undefined when nothing is (aborted, signed out). */
function failure(e: unknown, signal: AbortSignal, onUnauthorized: () => void): Phase | undefined {
  if (signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return undefined
  if (e instanceof ApiError && e.status === 401) {
    onUnauthorized()
    return undefined
  }
  if (e instanceof ApiError && e.status === 403) return { kind: 'forbidden' }
  return { kind: 'error', message: e instanceof Error ? e.message : String(e) }
}

export function AuditLog({ api, onUnauthorized }: { api: Api; onUnauthorized: () => void }) {
  const [draft, setDraft] = useState<AuditFilters>(NO_FILTERS)
  const [applied, setApplied] = useState<AuditFilters>(NO_FILTERS)
  const [formError, setFormError] = useState('')
  const [records, setRecords] = useState<AuditRecord[]>([])
  const [next, setNext] = useState<string | undefined>()
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' })
  const [more, setMore] = useState({ loading: false, error: '' })
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set())
  const [reload, setReload] = useState(0)
  // The request in flight for the current filters; a new filter or a refresh aborts it, so a
  // late answer for old filters never lands in the table.
  const current = useRef<AbortController | null>(null)

  useEffect(() => {
    const ctl = new AbortController()
    current.current = ctl
    setPhase({ kind: 'loading' })
    setMore({ loading: false, error: '' })
    must(api.GET('/audit', { params: { query: auditQuery(applied) }, signal: ctl.signal }))
      .then((page) => {
        if (ctl.signal.aborted) return
        setRecords(page.records ?? [])
        setNext(page.next_cursor || undefined)
        setPhase({ kind: 'ready' })
      })
      .catch((e: unknown) => {
        const p = failure(e, ctl.signal, onUnauthorized)
        if (p) setPhase(p)
      })
    return () => ctl.abort()
  }, [api, applied, reload, onUnauthorized])

  async function loadMore() {
    const ctl = current.current
    if (!next || !ctl || more.loading) return
    setMore({ loading: true, error: '' })
    try {
      const page = await must(api.GET('/audit', { params: { query: auditQuery(applied, next) }, signal: ctl.signal }))
      if (ctl.signal.aborted) return
      setRecords((cur) => {
        const seen = new Set(cur.map((r) => r.id))
        return [...cur, ...(page.records ?? []).filter((r) => !seen.has(r.id))]
      })
      setNext(page.next_cursor || undefined)
      setMore({ loading: false, error: '' })
    } catch (e) {
      const p = failure(e, ctl.signal, onUnauthorized)
      if (!p) return
      if (p.kind === 'forbidden') setPhase(p)
      setMore({ loading: false, error: p.kind === 'error' ? p.message : '' })
    }
  }

  function apply(e: FormEvent) {
    e.preventDefault()
    const problem = filterProblem(draft)
    setFormError(problem)
    if (problem) return
    setRecords([])
    setNext(undefined)
    setOpen(new Set())
    setApplied({ ...draft })
  }

  function clear() {
    setDraft(NO_FILTERS)
    setFormError('')
    if (hasFilters(applied)) {
      setRecords([])
      setNext(undefined)
      setOpen(new Set())
      setApplied(NO_FILTERS)
    }
  }

  function toggle(id: number) {
    setOpen((cur) => {
      const s = new Set(cur)
      if (s.has(id)) s.delete(id)
      else s.add(id)
      return s
    })
  }

  const loading = phase.kind === 'loading'
  const filtered = hasFilters(applied)

  return (
    <section className="page page-wide" aria-labelledby="audit-h">
      <header className="page-head">
        <div>
          <h1 id="audit-h">Audit log</h1>
          <p className="muted">
            Every tool call — allowed, denied or failed — with who, when, outcome and approver. Sensitive values are
            redacted.
          </p>
        </div>
        {phase.kind !== 'forbidden' && (
          <button type="button" className="icon-button" aria-label="Refresh the audit log" onClick={() => setReload((n) => n + 1)}>
            <RefreshIcon />
          </button>
        )}
      </header>

      {phase.kind === 'forbidden' ? (
        <div className="empty" role="alert" data-testid="audit-forbidden">
          <p className="empty-title">{FORBIDDEN_MESSAGE}</p>
          <p className="muted">Ask an administrator for the auditor role if you need to review tool calls.</p>
        </div>
      ) : (
        <>
          <FilterBar draft={draft} onChange={setDraft} onSubmit={apply} onClear={clear} canClear={hasFilters(draft) || filtered} />
          {formError && (
            <p className="form-error" role="alert">
              {formError}
            </p>
          )}
          {phase.kind === 'error' && (
            <div className="form-error audit-error-box" role="alert">
              <span>{phase.message}</span>
              <button type="button" className="link-button" onClick={() => setReload((n) => n + 1)}>
                Try again
              </button>
            </div>
          )}
          {loading && records.length === 0 && (
            <div className="loading" role="status">
              <span className="spinner" aria-hidden="true" /> Loading the audit log…
            </div>
          )}
          {phase.kind === 'ready' && records.length === 0 && (
            <div className="empty">
              <p className="empty-title">{filtered ? 'No records match these filters.' : 'Nothing has been recorded yet.'}</p>
              <p className="muted">
                {filtered
                  ? 'Try a wider time range, another outcome, or clear the filters.'
                  : 'Tool calls appear here as soon as someone makes one.'}
              </p>
            </div>
          )}
          {records.length > 0 && (
            <>
              <div className="table-wrap audit-wrap" role="region" aria-label="Audit records" tabIndex={0}>
                <table className="grid audit-table" aria-busy={loading || undefined}>
                  <caption className="visually-hidden">Tool calls, newest first. Open a row for its parameters and result.</caption>
                  <thead>
                    <tr>
                      {COLUMNS.map((c) => (
                        <th key={c} scope="col">
                          {c}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {records.map((r) => (
                      <AuditRow key={r.id} record={r} open={open.has(r.id)} onToggle={() => toggle(r.id)} />
                    ))}
                  </tbody>
                </table>
              </div>
              <div className="audit-foot">
                <p className="muted small" role="status">
                  {loading ? (
                    <>
                      <span className="spinner" aria-hidden="true" /> Refreshing…
                    </>
                  ) : (
                    `${records.length} ${records.length === 1 ? 'record' : 'records'}, newest first${next ? '; more are available' : ''}.`
                  )}
                </p>
                {next && (
                  <button type="button" className="button" onClick={() => void loadMore()} disabled={more.loading || loading} aria-busy={more.loading || undefined}>
                    {more.loading && <span className="spinner" aria-hidden="true" />}
                    Load more
                  </button>
                )}
              </div>
              {more.error && (
                <p className="form-error" role="alert">
                  {more.error}
                </p>
              )}
            </>
          )}
        </>
      )}
    </section>
  )
}

function FilterBar({
  draft,
  onChange,
  onSubmit,
  onClear,
  canClear,
}: {
  draft: AuditFilters
  onChange: (f: AuditFilters) => void
  onSubmit: (e: FormEvent) => void
  onClear: () => void
  canClear: boolean
}) {
  const id = useId()
  const set = <K extends keyof AuditFilters>(k: K, v: AuditFilters[K]) => onChange({ ...draft, [k]: v })
  return (
    <form className="audit-filters" role="search" aria-label="Filter the audit log" onSubmit={onSubmit}>
      <div className="field">
        <label htmlFor={`${id}-user`}>User</label>
        <input
          id={`${id}-user`}
          type="text"
          value={draft.user}
          placeholder="e.g. carol"
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => set('user', e.target.value)}
        />
      </div>
      <div className="field field-tool">
        <label htmlFor={`${id}-tool`}>Tool</label>
        <input
          id={`${id}-tool`}
          type="text"
          value={draft.tool}
          placeholder="e.g. hr.*"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-tool-hint`}
          onChange={(e) => set('tool', e.target.value)}
        />
        <span id={`${id}-tool-hint`} className="visually-hidden">
          A tool name, or a prefix ending in a star, such as hr.* for every HR tool.
        </span>
      </div>
      <div className="field">
        <label htmlFor={`${id}-outcome`}>Outcome</label>
        <select
          id={`${id}-outcome`}
          value={draft.outcome}
          onChange={(e) => set('outcome', isOutcome(e.target.value) ? e.target.value : '')}
        >
          <option value="">Any outcome</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {outcomeLabel[o]}
            </option>
          ))}
        </select>
      </div>
      <div className="field field-time">
        <label htmlFor={`${id}-since`}>Since</label>
        <input id={`${id}-since`} type="datetime-local" value={draft.since} onChange={(e) => set('since', e.target.value)} />
      </div>
      <div className="field field-time">
        <label htmlFor={`${id}-until`}>Until</label>
        <input id={`${id}-until`} type="datetime-local" value={draft.until} onChange={(e) => set('until', e.target.value)} />
      </div>
      <div className="filter-actions">
        <button type="submit" className="button primary">
          Apply filters
        </button>
        <button type="button" className="button" onClick={onClear} disabled={!canClear}>
          Clear
        </button>
      </div>
    </form>
  )
}

const dash = <span className="muted">—</span>

function AuditRow({ record: r, open, onToggle }: { record: AuditRecord; open: boolean; onToggle: () => void }) {
  const detailId = `audit-detail-${r.id}`
  const when = timestamp(r.at)
  const label = isOutcome(r.outcome) ? outcomeLabel[r.outcome] : r.outcome
  // Calls that never ran take no time; a dash says so better than "0 ms".
  const ran = r.outcome === 'succeeded' || r.outcome === 'failed' || r.duration_ms > 0
  const roles = (r.roles ?? []).map(roleName).join(', ')
  const rowClick = (e: MouseEvent<HTMLTableRowElement>) => {
    // Selecting text in a row (to copy an ID) should not fold it away.
    if ((e.target as HTMLElement).closest('button, a') || window.getSelection()?.toString()) return
    onToggle()
  }
  return (
    <>
      <tr className={open ? 'audit-row open' : 'audit-row'} onClick={rowClick}>
        <td data-label="Time" className="audit-time">
          <button
            type="button"
            className="row-toggle"
            aria-expanded={open}
            aria-controls={detailId}
            aria-label={`Details of ${r.tool} by ${r.user_id}, ${when}`}
            onClick={onToggle}
          >
            <ChevronIcon />
          </button>
          <time dateTime={r.at} title={`${absolute(r.at)} (${relative(r.at)})`}>
            {when}
          </time>
        </td>
        <td data-label="User" title={roles ? `Roles: ${roles}` : undefined}>
          {r.user_id || dash}
        </td>
        <td data-label="Tool" className="audit-tool">
          <span className="tool-line">
            {r.domain && <span className="domain-chip">{r.domain}</span>}
            <code className="tool-name">{r.tool}</code>
          </span>
        </td>
        <td data-label="Outcome">
          <span className={`badge outcome-${r.outcome}`}>{label}</span>
        </td>
        <td data-label="Approver">{r.approver || dash}</td>
        <td data-label="Duration" className="num">
          {!ran ? dash : r.duration_ms < 1 ? '< 1 ms' : duration(r.duration_ms)}
        </td>
        <td data-label="Error" className="audit-error">
          {r.error ? (
            <span className="audit-error-text" title={r.error}>
              {r.error}
            </span>
          ) : (
            dash
          )}
        </td>
      </tr>
      {open && (
        <tr className="audit-detail" id={detailId}>
          <td colSpan={COLUMNS.length}>
            <AuditDetail record={r} />
          </td>
        </tr>
      )}
    </>
  )
}

function AuditDetail({ record: r }: { record: AuditRecord }) {
  const hasResult = r.result !== undefined && r.result !== null
  return (
    <div className="audit-detail-body">
      <div className="audit-detail-main">
        <section aria-label={`Parameters of ${r.tool}`}>
          <h3 className="detail-h">Parameters</h3>
          <ResultView value={r.params ?? {}} label="Parameters" />
        </section>
        <section aria-label={`Result of ${r.tool}`}>
          <h3 className="detail-h">Result</h3>
          {hasResult ? <ResultView value={r.result} label="Result" /> : <span className="muted">No result recorded</span>}
        </section>
        {r.error && (
          <section aria-label={`Error of ${r.tool}`}>
            <h3 className="detail-h">Error</h3>
            <p className="audit-error-full">{r.error}</p>
          </section>
        )}
      </div>
      <dl className="audit-meta">
        <div>
          <dt>Workflow ID</dt>
          <dd>{r.workflow_id ? <code>{r.workflow_id}</code> : dash}</dd>
        </div>
        {r.run_id && (
          <div>
            <dt>Run ID</dt>
            <dd>
              <code>{r.run_id}</code>
            </dd>
          </div>
        )}
        {r.tool_call_id && (
          <div>
            <dt>Tool call ID</dt>
            <dd>
              <code>{r.tool_call_id}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>Roles</dt>
          <dd className="roles">
            {(r.roles ?? []).length > 0
              ? (r.roles ?? []).map((role) => (
                  <span key={role} className="role-chip">
                    {roleName(role)}
                  </span>
                ))
              : dash}
          </dd>
        </div>
        <div>
          <dt>Record</dt>
          <dd>#{r.id}</dd>
        </div>
      </dl>
    </div>
  )
}
