// Requests waiting for the signed-in user's decision, across everyone's conversations.
import { useCallback, useEffect, useState } from 'react'
import { ApiError, must, type Api } from '../api/client'
import type { Principal } from '../api/types'
import { sendDecision } from '../chat/decide'
import { approvalFromRequest, type ApprovalView } from '../chat/state'
import { toolsByName, useTools } from '../lib/tools'
import { ApprovalCard, type Decision } from './ApprovalCard'
import { RefreshIcon } from './Icons'

const POLL_MS = 5000

export function PendingApprovals({
  api,
  me,
  onCount,
  onUnauthorized,
}: {
  api: Api
  me: Principal
  onCount?: (n: number) => void
  onUnauthorized: () => void
}) {
  const [items, setItems] = useState<ApprovalView[] | null>(null)
  const [error, setError] = useState('')
  const [done, setDone] = useState<{ id: string; text: string }[]>([])
  const tools = toolsByName(useTools(api))

  const load = useCallback(async () => {
    try {
      const r = await must(api.GET('/approvals'))
      const list = (r.approvals ?? []).map(approvalFromRequest)
      setItems(list)
      onCount?.(list.length)
      setError('')
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return onUnauthorized()
      setError(e instanceof Error ? e.message : String(e))
    }
  }, [api, onCount, onUnauthorized])

  useEffect(() => {
    void load()
    const t = setInterval(() => void load(), POLL_MS)
    return () => clearInterval(t)
  }, [load])

  async function decide(a: ApprovalView, d: Decision, comment: string) {
    const status = await sendDecision(api, a, d, comment)
    setItems((cur) => (cur ?? []).filter((x) => x.id !== a.id))
    setDone((cur) => [
      { id: a.id, text: `${status === 'approved' ? 'Approved' : 'Rejected'} ${a.tool} for ${a.requester ?? 'the requester'}.` },
      ...cur.slice(0, 4),
    ])
    void load()
  }

  return (
    <section className="page" aria-labelledby="approvals-h">
      <header className="page-head">
        <div>
          <h1 id="approvals-h">Pending approvals</h1>
          <p className="muted">Calls that change business systems wait here for a person with the right role.</p>
        </div>
        <button type="button" className="icon-button" aria-label="Refresh pending approvals" onClick={() => void load()}>
          <RefreshIcon />
        </button>
      </header>
      <div aria-live="polite">
        {done.map((d) => (
          <p key={d.id} className="toast" role="status">
            {d.text}
          </p>
        ))}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> Loading…
        </div>
      )}
      {items !== null && items.length === 0 && (
        <div className="empty">
          <p className="empty-title">Nothing is waiting for you.</p>
          <p className="muted">Requests you may approve will appear here as soon as someone makes one.</p>
        </div>
      )}
      {items !== null && items.length > 0 && (
        <ul className="approval-list">
          {items.map((a) => (
            <li key={a.id}>
              <ApprovalCard
                approval={a}
                me={me}
                onDecide={decide}
                showCall
                tool={tools.get(a.tool)}
                context={
                  a.turn ? (
                    <p className="muted small">
                      From a conversation of {a.requester}, turn {a.turn}
                    </p>
                  ) : undefined
                }
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
