// A request for approval: what would run and why it needs a person's decision. Those allowed to
// decide get Approve / Reject with an optional comment; the requester sees who it waits for.
import { useId, useState } from 'react'
import type { Principal } from '../api/types'
import type { ApprovalStatus, ApprovalView } from '../chat/state'
import { absolute, relative } from '../lib/format'
import { canDecide, rolesInWords } from '../lib/roles'
import { ResultView } from './ResultView'

export type Decision = 'approve' | 'reject'

export interface ApprovalCardProps {
  approval: ApprovalView
  me: Principal | null
  /** Sends the decision; rejects with an Error whose message is shown. */
  onDecide?: (a: ApprovalView, decision: Decision, comment: string) => Promise<void>
  /** Show the tool and its arguments (the pending list does; a tool card already shows them). */
  showCall?: boolean
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

export function ApprovalCard({ approval: a, me, onDecide, showCall = false, context }: ApprovalCardProps) {
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
      {showCall && (
        <div className="approval-call">
          <div className="tool-line">
            {a.domain && <span className="domain-chip">{a.domain}</span>}
            <code className="tool-name">{a.tool}</code>
          </div>
          <div className="args">
            <ResultView value={a.arguments} label="Arguments" />
          </div>
        </div>
      )}
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
