// A request for approval: what would run and why it needs a person's decision. Those allowed to
// decide get Approve / Reject with an optional comment; the requester sees who it waits for.
import { useId, useState } from 'react'
import type { Principal, ToolInfo } from '../api/types'
import type { ApprovalStatus, ApprovalView } from '../chat/state'
import { callArguments, toolEffect } from '../lib/args'
import { absolute, relative } from '../lib/format'
import { humanize } from '../lib/result'
import { canDecide, rolesInWords } from '../lib/roles'
import { ResultView } from './ResultView'

export type Decision = 'approve' | 'reject'

export interface ApprovalCardProps {
  approval: ApprovalView
  me: Principal | null
  /** Sends the decision; rejects with an Error whose message is shown. */
  onDecide?: (a: ApprovalView, decision: Decision, comment: string) => Promise<void>
  /** Show the tool's name (the pending list does; a tool card already shows it). */
  showCall?: boolean
  /** The tool, when known: what it does and the defaults of the arguments the call left out. */
  tool?: ToolInfo
  /** Extra context line, such as a link to the conversation. */
  context?: React.ReactNode
}

const statusText: Record<ApprovalStatus, string> = {
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
}

export function ApprovalCard({ approval: a, me, onDecide, showCall = false, tool, context }: ApprovalCardProps) {
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState<Decision | null>(null)
  const [error, setError] = useState('')
  const commentId = useId()
  const decidable = canDecide(a, me) && !!onDecide
  const mine = !!me && a.requester === me.sub

  async function decide(d: Decision) {
    if (!onDecide) return
    setBusy(d)
    setError('')
    try {
      await onDecide(a, d, comment.trim())
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    } finally {
      setBusy(null)
    }
  }

  return (
    <section className={`approval-card approval-${a.status}`} aria-label={`Approval request for ${a.tool}: ${statusText[a.status]}`}>
      <header className="approval-head">
        <span className="approval-title">
          {a.status === 'pending' ? 'Approval required' : `Approval ${statusText[a.status].toLowerCase()}`}
        </span>
        <span className={`badge badge-${a.status}`}>{statusText[a.status]}</span>
      </header>
      <ApprovalCall approval={a} tool={tool} showName={showCall} />
      {a.reason && <p className="approval-reason">{a.reason}</p>}
      <p className="approval-meta">
        {a.requester && (
          <>
            Requested by <strong>{mine ? 'you' : a.requester}</strong>
            {a.requestedAt && <> {relative(a.requestedAt)}</>}
          </>
        )}
        {a.status === 'pending' && a.expiresAt && (
          <span title={absolute(a.expiresAt)}> · expires {relative(a.expiresAt)}</span>
        )}
      </p>
      {context}
      {a.status === 'pending' && !decidable && (
        <p className="waiting" role="status">
          <span className="spinner" aria-hidden="true" /> Waiting for approval by {rolesInWords(a.approverRoles)}
        </p>
      )}
      {a.status === 'approved' && (
        <p className="decision">
          Approved by <strong>{a.approver === me?.sub ? 'you' : a.approver || 'an approver'}</strong>
          {a.comment && <>: “{a.comment}”</>}
        </p>
      )}
      {a.status === 'rejected' && (
        <p className="decision">
          Rejected by <strong>{a.approver === me?.sub ? 'you' : a.approver || 'an approver'}</strong>
          {a.comment && <>: “{a.comment}”</>}
        </p>
      )}
      {a.status === 'expired' && <p className="decision">Nobody decided in time, so the call did not run.</p>}
      {a.status === 'cancelled' && <p className="decision">The turn ended before a decision, so the call did not run.</p>}
      {decidable && (
        <form
          className="decide"
          aria-label={`Decide on ${a.tool}`}
          onSubmit={(e) => {
            e.preventDefault()
            void decide('approve')
          }}
        >
          <label htmlFor={commentId}>Comment (optional)</label>
          <textarea
            id={commentId}
            rows={2}
            value={comment}
            maxLength={1000}
            placeholder="Why you approve or reject"
            onChange={(e) => setComment(e.target.value)}
            disabled={busy !== null}
          />
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="decide-actions">
            <button type="button" className="button danger" disabled={busy !== null} onClick={() => void decide('reject')}>
              {busy === 'reject' ? 'Rejecting…' : 'Reject'}
            </button>
            <button type="submit" className="button primary" disabled={busy !== null}>
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
          </div>
        </form>
      )}
    </section>
  )
}

/** ApprovalCall is what would run: the tool, what it does, and every argument it would use. */
function ApprovalCall({ approval: a, tool, showName }: { approval: ApprovalView; tool?: ToolInfo; showName: boolean }) {
  const args = callArguments(a.arguments ?? {}, tool?.input_schema)
  const effect = toolEffect(tool)
  return (
    <div className="approval-call">
      {showName && (
        <div className="tool-line">
          {a.domain && <span className="domain-chip">{a.domain}</span>}
          <code className="tool-name">{a.tool}</code>
        </div>
      )}
      {effect && (
        <p className="approval-effect">
          <span className="approval-label">What it will do:</span> {effect}
        </p>
      )}
      {args.length > 0 ? (
        <table className="kv approval-args" aria-label={`Arguments of ${a.tool}`}>
          <tbody>
            {args.map((arg) => (
              <tr key={arg.name} className={arg.isDefault ? 'arg-default' : undefined}>
                <th scope="row" title={arg.description ?? arg.name}>
                  {humanize(arg.name)}
                </th>
                <td>
                  <ResultView value={arg.value} depth={1} label={humanize(arg.name)} />
                  {arg.isDefault && <span className="default-note"> (default: not given, so the tool uses it)</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">No arguments.</p>
      )}
    </div>
  )
}
