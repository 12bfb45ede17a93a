// The chat: the conversation's turns as they stream in, and the message box.
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'react'
import { ApiError, must, type Api } from '../api/client'
import type { Principal, ToolInfo } from '../api/types'
import { sendDecision } from '../chat/decide'
import { followReducer, initialFollow, type FollowEvent } from '../chat/follow'
import { connectionNotice, progressText, turnProgress } from '../chat/liveness'
import { activeTurn, chatReducer, emptyChat, type ApprovalView, type TurnView } from '../chat/state'
import { followEvents, StreamError, type StreamStatus } from '../lib/stream'
import { toolsByName, useTools } from '../lib/tools'
import type { Session } from '../lib/session'
import { rolesInWords } from '../lib/roles'
import type { Decision } from './ApprovalCard'
import { Composer } from './Composer'
import { ExternalIcon } from './Icons'
import { Markdown } from './Markdown'
import { ToolCard } from './ToolCard'

export interface ChatViewProps {
  api: Api
  session: Session
  conversationId?: string
  /** A conversation was created by sending the first message. */
  onCreated: (id: string) => void
  /** The list should be refreshed (new message, finished turn). */
  onChanged: () => void
  /** The conversation does not exist (deleted, or not the user's). */
  onGone: () => void
  onUnauthorized: () => void
}

export function ChatView({ api, session, conversationId, onCreated, onChanged, onGone, onUnauthorized }: ChatViewProps) {
  const [state, dispatch] = useReducer(chatReducer, emptyChat)
  const [loading, setLoading] = useState(false)
  const [loadError, setLoadError] = useState('')
  const [sendError, setSendError] = useState('')
  const [stream, setStream] = useState<StreamStatus>('closed')
  const [retryAt, setRetryAt] = useState<number | undefined>(undefined)
  const [sendUnreachable, setSendUnreachable] = useState(false)
  const [draft, setDraft] = useState('')
  const createdHere = useRef<string | null>(null)
  const scroller = useRef<HTMLDivElement>(null)
  const inner = useRef<HTMLDivElement>(null)
  const follow = useRef(initialFollow)
  const [unseen, setUnseen] = useState(false)
  // When the conversation last moved (an event arrived, or a message was sent): a running turn
  // quiet for long is said to be slow.
  const [quietSince, setQuietSince] = useState<number | undefined>(undefined)
  const [now, setNow] = useState(() => Date.now())
  const nudge = useRef(new EventTarget())
  const tokenRef = useRef(session.token)
  tokenRef.current = session.token
  const me = session.principal
  const tools = useTools(api)
  const toolIndex = useMemo(() => toolsByName(tools), [tools])

  // Load the history, then follow the event stream from the start: the reducer ignores what
  // the history already shows, and the stream fills in a turn that is still running.
  useEffect(() => {
    if (!conversationId) {
      createdHere.current = null
      dispatch({ type: 'reset' })
      setLoadError('')
      setStream('closed')
      return
    }
    setSendUnreachable(false)
    const ctl = new AbortController()
    const fresh = createdHere.current !== conversationId
    if (fresh) dispatch({ type: 'reset', conversationId })
    setLoading(fresh)
    setLoadError('')
    ;(async () => {
      try {
        const detail = await must(api.GET('/conversations/{id}', { params: { path: { id: conversationId } }, signal: ctl.signal }))
        if (ctl.signal.aborted) return
        dispatch({ type: 'loaded', detail })
        setLoading(false)
        await followEvents({
          url: `/conversations/${encodeURIComponent(conversationId)}/events`,
          token: () => tokenRef.current,
          signal: ctl.signal,
          nudge: nudge.current,
          onEvent: (event) => {
            dispatch({ type: 'event', event })
            setQuietSince(Date.now())
            if (event.type === 'turn_completed' || event.type === 'turn_failed' || event.type === 'turn_cancelled') onChanged()
          },
          onStatus: (s, info) => {
            setStream(s)
            setRetryAt(s === 'reconnecting' && info?.delayMs !== undefined ? Date.now() + info.delayMs : undefined)
          },
        })
      } catch (e) {
        if (ctl.signal.aborted) return
        setLoading(false)
        if ((e instanceof ApiError || e instanceof StreamError) && e.status === 404) return onGone()
        if ((e instanceof ApiError || e instanceof StreamError) && e.status === 401) return onUnauthorized()
        setLoadError(e instanceof Error ? e.message : String(e))
      }
    })()
    return () => ctl.abort()
    // Only a different conversation restarts loading and streaming; the callbacks of the shell
    // are stable.
  }, [api, conversationId])

  // Keep the newest content in view unless the reader scrolled up (chat/follow.ts).
  const onFollow = useCallback((e: FollowEvent) => {
    const next = followReducer(follow.current, e)
    follow.current = next
    setUnseen(next.unseen && !next.following)
  }, [])
  const toBottom = useCallback(() => {
    const el = scroller.current
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: 'instant' })
  }, [])
  useLayoutEffect(() => {
    if (follow.current.following) toBottom()
    else onFollow({ type: 'content' })
  }, [state, toBottom, onFollow])
  // Content also grows after React renders (Markdown, fonts, a card opening): follow that too.
  useEffect(() => {
    const el = inner.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(() => {
      if (follow.current.following) toBottom()
    })
    ro.observe(el)
    return () => ro.disconnect()
  }, [toBottom])
  const jumpToNewest = () => {
    onFollow({ type: 'jump' })
    toBottom()
  }

  // Back online: reconnect now rather than at the end of the backoff.
  useEffect(() => {
    const retry = () => nudge.current.dispatchEvent(new Event('retry'))
    window.addEventListener('online', retry)
    return () => window.removeEventListener('online', retry)
  }, [])

  const active = activeTurn(state)
  const progressing = !!state.pending || (!!active && active.status === 'running')
  // A clock for "still working… (20 s)" and "trying again in 4 s", ticking only when shown.
  useEffect(() => {
    if (!progressing && stream !== 'reconnecting') return
    setNow(Date.now())
    const t = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [progressing, stream])
  const notice = connectionNotice({ stream, retryAt, sendUnreachable }, now)
  const progress = progressText(turnProgress(state.pending ? { turn: 0, status: 'running', items: [] } : active, quietSince, now))

  const send = useCallback(
    async (text: string): Promise<boolean> => {
      setSendError('')
      dispatch({ type: 'sending', text })
      setQuietSince(Date.now())
      onFollow({ type: 'jump' })
      try {
        const info = await must(
          api.POST('/chat', { body: { message: text, ...(conversationId ? { conversation_id: conversationId } : {}) } }),
        )
        dispatch({ type: 'sent', info, text })
        if (!conversationId) {
          createdHere.current = info.conversation_id
          onCreated(info.conversation_id)
        }
        onChanged()
        setDraft('')
        setSendUnreachable(false)
        // The platform answered: a stream waiting out its backoff reconnects now.
        nudge.current.dispatchEvent(new Event('retry'))
        return true
      } catch (e) {
        dispatch({ type: 'sendFailed' })
        if (e instanceof ApiError && e.status === 401) onUnauthorized()
        const unreachable = e instanceof ApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504)
        setSendUnreachable(unreachable)
        setSendError(
          e instanceof ApiError && e.status === 409
            ? 'The assistant is still working on the previous message. Wait for it, or stop it.'
            : unreachable
              ? ''
              : e instanceof Error
                ? e.message
                : String(e),
        )
        return false
      }
    },
    [api, conversationId, onChanged, onCreated, onUnauthorized, onFollow],
  )

  async function stop() {
    if (!active || !conversationId) return
    try {
      await must(
        api.POST('/conversations/{id}/turns/{turn}/cancel', { params: { path: { id: conversationId, turn: active.turn } } }),
      )
    } catch (e) {
      setSendError(e instanceof Error ? e.message : String(e))
    }
  }

  const decide = useCallback(
    async (a: ApprovalView, d: Decision, comment: string) => {
      const status = await sendDecision(api, a, d, comment)
      dispatch({ type: 'decided', approvalId: a.id, status, approver: me.sub, comment })
    },
    [api, me.sub],
  )

  const empty = !conversationId && state.turns.length === 0 && !state.pending

  return (
    <section className="chat" aria-label={state.title ? `Conversation: ${state.title}` : 'New conversation'}>
      {notice && (
        <div className="banner banner-offline" role="alert">
          <span>{notice}</span>
          {stream === 'reconnecting' && (
            <button type="button" className="link-button" onClick={() => nudge.current.dispatchEvent(new Event('retry'))}>
              Retry now
            </button>
          )}
        </div>
      )}
      <div
        className="chat-scroll"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget
          onFollow({ type: 'scroll', top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight })
        }}
      >
        <div className="chat-inner" ref={inner}>
          {loading && (
            <div className="loading" role="status" aria-live="polite">
              <span className="spinner" aria-hidden="true" /> Loading the conversation…
            </div>
          )}
          {loadError && (
            <p className="form-error" role="alert">
              Could not load the conversation: {loadError}
            </p>
          )}
          {empty && <Welcome tools={tools} me={me} onPick={setDraft} />}
          <ol className="turns" aria-label="Messages">
            {state.turns.map((t) => (
              <Turn key={t.turn} turn={t} me={me} tools={toolIndex} progress={t === active ? progress : ''} onDecide={decide} />
            ))}
            {state.pending && (
              <li className="turn">
                <div className="bubble user">{state.pending}</div>
                <div className="assistant">
                  <TypingDots />
                  {progress && (
                    <p className="turn-slow" role="status">
                      {progress}
                    </p>
                  )}
                </div>
              </li>
            )}
          </ol>
        </div>
      </div>
      {unseen && (
        <button type="button" className="new-messages" onClick={jumpToNewest}>
          New messages ↓
        </button>
      )}
      <div className="composer-wrap">
        {sendError && (
          <p className="form-error small" role="alert">
            {sendError}
          </p>
        )}
        <Composer
          onSend={send}
          onStop={() => void stop()}
          busy={!!active || !!state.pending}
          initial={draft}
          autoFocus
          disabledReason={active?.status === 'awaiting_approval' ? 'Waiting for an approval…' : undefined}
        />
        <p className="composer-hint muted small">
          <kbd>Enter</kbd> sends · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · The assistant acts with your
          permissions; changes may wait for approval.
        </p>
      </div>
    </section>
  )
}

function Turn({
  turn: t,
  me,
  tools,
  progress,
  onDecide,
}: {
  turn: TurnView
  me: Principal
  tools: Map<string, ToolInfo>
  /** Said when the turn has been quiet for long ("still working… (20 s)"). */
  progress: string
  onDecide: (a: ApprovalView, d: Decision, comment: string) => Promise<void>
}) {
  const hasText = t.items.some((it) => it.kind === 'text' && it.text.trim() !== '')
  const waiting = t.items.find(
    (it) => it.kind === 'tool' && it.call.approval?.status === 'pending',
  )
  return (
    <li className={`turn turn-${t.status}`} aria-label={`Turn ${t.turn}`}>
      {t.userMessage && <div className="bubble user">{t.userMessage}</div>}
      <div className="assistant" aria-busy={t.status === 'running'}>
        {t.items.map((it) =>
          it.kind === 'text' ? (
            it.text.trim() ? <Markdown key={`t${it.step}`} text={it.text} streaming={!it.final && t.status === 'running'} /> : null
          ) : (
            <ToolCard key={it.call.key} call={it.call} me={me} tool={tools.get(it.call.tool)} onDecide={onDecide} />
          ),
        )}
        {t.status === 'running' && !hasText && !t.items.some((it) => it.kind === 'tool' && it.call.status === 'running') && <TypingDots />}
        {progress && (
          <p className="turn-slow" role="status">
            {progress}
          </p>
        )}
        {t.status === 'awaiting_approval' && waiting?.kind === 'tool' && waiting.call.approval && (
          <p className="turn-note" role="status">
            Paused until {rolesInWords(waiting.call.approval.approverRoles)} decides.
          </p>
        )}
        {t.status === 'failed' && (
          <p className="turn-error" role="alert">
            The assistant could not finish{t.error ? `: ${t.error}` : '.'}
          </p>
        )}
        {t.status === 'cancelled' && <p className="turn-note">Stopped.</p>}
        <footer className="turn-foot">
          {t.temporalUrl && (
            <a href={t.temporalUrl} target="_blank" rel="noopener noreferrer" className="run-link">
              View run in Temporal <ExternalIcon />
            </a>
          )}
        </footer>
      </div>
    </li>
  )
}

function TypingDots() {
  return (
    <span className="typing" role="status" aria-label="The assistant is working">
      <span />
      <span />
      <span />
    </span>
  )
}

const examples: Record<string, string> = {
  'hr.get_employee': 'Get employee E001',
  'hr.list_departments': 'List departments',
  'hr.list_reports': 'Who reports to E001?',
  'erp.list_invoices': 'List invoices',
  'erp.check_low_stock': 'Check low stock',
  'devops.list_deployments': 'List deployments',
  'devops.list_pods': 'List pods',
  'devops.scale_deployment': 'Scale api-server to 3 replicas',
}

function Welcome({ tools, me, onPick }: { tools: ToolInfo[] | null; me: Principal; onPick: (s: string) => void }) {
  const domains = [...new Set((tools ?? []).map((t) => t.domain))]
  const suggestions = (tools ?? []).map((t) => examples[t.name]).filter((s): s is string => !!s).slice(0, 4)
  const first = (me.name || me.sub).split(' ')[0]
  return (
    <div className="welcome">
      <h1>Hi {first}, what can I do for you?</h1>
      {tools && tools.length > 0 && (
        <p className="muted">
          You can use {tools.length} {tools.length === 1 ? 'tool' : 'tools'} in {domains.map((d) => d.toUpperCase()).join(', ')}.
        </p>
      )}
      {tools && tools.length === 0 && <p className="muted">No tools are available to you yet; you can still ask questions.</p>}
      {suggestions.length > 0 && (
        <ul className="suggestions" aria-label="Suggestions">
          {suggestions.map((s) => (
            <li key={s}>
              <button type="button" className="chip-button" onClick={() => onPick(s)}>
                {s}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
