// One tool call of a turn: which domain and tool, with which arguments, how it went, and its
// result as a table, or in plain words why it did not run.
import type { Principal, ToolInfo } from '../api/types'
import type { ToolCallView, ToolStatus } from '../chat/state'
import { duration } from '../lib/format'
import { ApprovalCard, type Decision } from './ApprovalCard'
import { ContentView } from './ContentView'
import { ResultView } from './ResultView'
import type { ApprovalView } from '../chat/state'

const statusLabel: Record<ToolStatus, string> = {
  planned: 'Queued',
  awaiting_approval: 'Awaiting approval',
  running: 'Running',
  ok: 'OK',
  error: 'Error',
  denied: 'Denied',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Not run',
}

const errorTypeLabel: Record<string, string> = {
  invalid: 'Invalid request',
  not_found: 'Not found',
  conflict: 'Conflict',
  unavailable: 'Unavailable',
  timeout: 'Timed out',
  outcome_unknown: 'Outcome unknown',
}

/** explain says in plain words why a call did not succeed. */
export function explain(c: ToolCallView): string {
  const detail = c.error ? ` ${sentence(c.error)}` : ''
  switch (c.status) {
    case 'denied':
      return `You are not allowed to use ${c.tool}, so it did not run.${detail}`
    case 'rejected': {
      const who = c.approval?.approver || c.approver || 'An approver'
      const why = c.approval?.comment ? ` They said: “${c.approval.comment}”.` : ''
      return `${who} rejected this request, so it did not run.${why}`
    }
    case 'expired':
      return 'Nobody approved this request in time, so it did not run.'
    case 'cancelled':
      return 'The turn ended before this call ran.'
    case 'error':
      switch (c.errorType) {
        case 'invalid':
          return `The request was not valid.${detail}`
        case 'not_found':
          return `Nothing was found.${detail}`
        case 'conflict':
          return `The system refused the change because of a conflict.${detail}`
        case 'outcome_unknown':
          return `It is not known whether this call took effect: it may have reached ${c.domain ? c.domain.toUpperCase() : 'the system'}, and it was not sent again.${detail}`
        case 'unavailable':
        case 'timeout':
          return `${c.domain ? c.domain.toUpperCase() : 'The system'} did not answer in time.${detail}`
        default:
          return `The call failed.${detail}`
      }
    default:
      return ''
  }
}

function approverName(who: string | undefined, me: Principal | null): string {
  if (!who) return 'an approver'
  return who === me?.sub ? 'you' : who
}

function sentence(s: string): string {
  const t = s.trim()
  if (!t) return ''
  const first = t[0].toUpperCase() + t.slice(1)
  return /[.!?]$/.test(first) ? first : `${first}.`
}

export interface ToolCardProps {
  call: ToolCallView
  me: Principal | null
  /** The tool, when known, for the approval card's defaults and description. */
  tool?: ToolInfo
  onDecide?: (a: ApprovalView, decision: Decision, comment: string) => Promise<void>
}

export function ToolCard({ call: c, me, tool, onDecide }: ToolCardProps) {
  const label = c.status === 'error' && c.errorType ? errorTypeLabel[c.errorType] ?? 'Error' : statusLabel[c.status]
  const problem = explain(c)
  const showApproval = !!c.approval && c.approval.status !== 'approved' && c.status !== 'rejected' && c.status !== 'expired'
  // A pending approval card lists every argument itself, defaults included.
  const args = c.arguments && Object.keys(c.arguments).length > 0 && !showApproval ? c.arguments : undefined
  return (
    <article className={`tool-card tool-${c.status}`} aria-label={`Tool call ${c.tool}: ${label}`}>
      <header className="tool-head">
        <div className="tool-line">
          {c.domain && <span className="domain-chip">{c.domain}</span>}
          <code className="tool-name">{c.tool}</code>
        </div>
        <div className="tool-status">
          {c.durationMs !== undefined && c.status !== 'running' && <span className="duration">{duration(c.durationMs)}</span>}
          <span className={`badge badge-${c.status}`} role="status">
            {c.status === 'running' && <span className="spinner" aria-hidden="true" />}
            {label}
          </span>
        </div>
      </header>
      {args && (
        <details className="tool-args" open={c.status !== 'ok'}>
          <summary>Arguments</summary>
          <ResultView value={args} label="Arguments" />
        </details>
      )}
      {problem && (
        <p className={`tool-problem problem-${c.status}`} role={c.status === 'denied' ? 'alert' : undefined}>
          {problem}
        </p>
      )}
      {(c.approver || c.approval?.status === 'approved') && (c.status === 'ok' || c.status === 'running' || c.status === 'error') && (
        <p className="tool-note">
          Approved by {approverName(c.approver || c.approval?.approver, me)}
          {c.approval?.comment && <>: “{c.approval.comment}”</>}
        </p>
      )}
      {showApproval && c.approval && <ApprovalCard approval={c.approval} me={me} onDecide={onDecide} tool={tool} />}
      {c.status === 'ok' && c.content && c.content.length > 0 && (
        <details className="tool-result" open>
          <summary>{c.isError ? 'The tool reported an error' : 'Result'}</summary>
          <ContentView blocks={c.content} tool={c.tool} />
          {c.redacted && <p className="tool-note">Some values are hidden because your role may not see them.</p>}
        </details>
      )}
      {c.status === 'ok' && !c.content?.length && c.output !== undefined && c.output !== null && (
        <details className="tool-result" open>
          <summary>Result</summary>
          <ResultView value={c.output} label={`Result of ${c.tool}`} />
          {c.redacted && <p className="tool-note">Some values are hidden because your role may not see them.</p>}
        </details>
      )}
      {c.traceId && (
        <p className="tool-trace">
          Trace <code title="OpenTelemetry trace ID: find this turn's spans, logs and audit rows">{c.traceId}</code>
        </p>
      )}
    </article>
  )
}
