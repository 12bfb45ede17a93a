// The chat state of one conversation, built from its saved history and kept current by the
// event stream. The reducer is idempotent: an event it has already seen (because the history
// already contains its effect, or because the stream replayed it) changes nothing, and a
// finished turn or tool call never goes back to running.

import type { ApprovalRequest, ConversationDetail, EventData, StreamEvent, StreamEventOf, TurnInfo } from '../api/types'

export type TurnStatus = 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'cancelled'

export type ToolStatus =
  | 'planned'
  | 'awaiting_approval'
  | 'running'
  | 'ok'
  | 'error'
  | 'denied'
  | 'rejected'
  | 'expired'
  | 'cancelled'

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled'

/** An approval request as the UI shows it. */
export interface ApprovalView {
  id: string
  tool: string
  domain?: string
  arguments: Record<string, unknown>
  argsHash: string
  reason?: string
  approverRoles: string[]
  allowSelfApproval: boolean
  requester?: string
  requestedAt?: string
  expiresAt?: string
  status: ApprovalStatus
  approver?: string
  comment?: string
  conversationId?: string
  turn?: number
}

/** One MCP content block, in its wire form. */
export interface ContentBlock {
  type: string
  text?: string
  data?: string
  mimeType?: string
  uri?: string
  name?: string
  title?: string
  description?: string
  resource?: { uri?: string; mimeType?: string; text?: string; blob?: string }
  annotations?: { audience?: string[]; priority?: number; lastModified?: string }
  [key: string]: unknown
}

/** A tool call of a turn. */
export interface ToolCallView {
  /** step:id, unique within the turn (LLM call IDs repeat across steps). */
  key: string
  id: string
  step: number
  tool: string
  domain?: string
  summary?: string
  arguments?: Record<string, unknown>
  status: ToolStatus
  /** The platform's error type when status is error (invalid, not_found, unavailable...). */
  errorType?: string
  error?: string
  durationMs?: number
  output?: unknown
  /** Sensitive values of the output were masked because this viewer may not see them. */
  redacted?: boolean
  /** The MCP content blocks of a tool of a domain of kind mcp, as its server returned them. */
  content?: ContentBlock[]
  /** That tool reported that it failed (MCP isError). */
  isError?: boolean
  approver?: string
  approval?: ApprovalView
  /** The OpenTelemetry trace of the turn, for finding its spans and audit rows. */
  traceId?: string
}

export type TurnItem =
  | { kind: 'text'; step: number; attempt: number; text: string; final: boolean }
  | { kind: 'tool'; call: ToolCallView }

export interface TurnView {
  turn: number
  status: TurnStatus
  userMessage?: string
  items: TurnItem[]
  answer?: string
  error?: string
  workflowId?: string
  temporalUrl?: string
  startedAt?: string
}

export interface ChatState {
  conversationId?: string
  title?: string
  turns: TurnView[]
  /** The last stream event applied; resume after it. */
  lastEventId: number
  /** A message being sent, shown before the server has accepted it. */
  pending?: string
}

export type ChatAction =
  | { type: 'reset'; conversationId?: string }
  | { type: 'loaded'; detail: ConversationDetail }
  | { type: 'event'; event: StreamEvent }
  | { type: 'sending'; text: string }
  | { type: 'sent'; info: TurnInfo; text: string }
  | { type: 'sendFailed' }
  | { type: 'decided'; approvalId: string; status: ApprovalStatus; approver?: string; comment?: string }

export const emptyChat: ChatState = { turns: [], lastEventId: 0 }

const finishedTurn = new Set<TurnStatus>(['completed', 'failed', 'cancelled'])
const finishedTool = new Set<ToolStatus>(['ok', 'error', 'denied', 'rejected', 'expired', 'cancelled'])

/** isTurnActive says whether a turn may still change. */
export function isTurnActive(t: TurnView): boolean {
  return !finishedTurn.has(t.status)
}

/** stepOfSeq recovers an LLM step from a message's seq (step*100 + index). */
export function stepOfSeq(seq: number): number {
  return Math.floor(seq / 100)
}

/** toolStatus maps a tool outcome's status (ok or an error type) to the UI's status. */
export function toolStatus(status: string | undefined): { status: ToolStatus; errorType?: string } {
  switch (status) {
    case 'ok':
    case 'denied':
    case 'rejected':
    case 'expired':
    case 'cancelled':
      return { status }
    case undefined:
    case '':
      return { status: 'planned' }
    default:
      return { status: 'error', errorType: status }
  }
}

function turnStatus(s: string | undefined): TurnStatus {
  switch (s) {
    case 'awaiting_approval':
    case 'completed':
    case 'failed':
    case 'cancelled':
      return s
    default:
      return 'running'
  }
}

function approvalStatus(s: string | undefined): ApprovalStatus {
  switch (s) {
    case 'approved':
    case 'rejected':
    case 'expired':
    case 'cancelled':
      return s
    default:
      return 'pending'
  }
}

/** approvalFromRequest converts an approval request of the API. */
export function approvalFromRequest(r: ApprovalRequest): ApprovalView {
  return {
    id: r.id,
    tool: r.tool,
    domain: r.domain,
    arguments: (r.arguments ?? {}) as Record<string, unknown>,
    argsHash: r.args_hash,
    reason: r.reason,
    approverRoles: r.approver_roles ?? [],
    allowSelfApproval: r.allow_self_approval,
    requester: r.requester,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    status: approvalStatus(r.status),
    approver: r.decided_by || undefined,
    comment: r.comment || undefined,
    conversationId: r.conversation_id,
    turn: r.turn,
  }
}

// --- immutable helpers -------------------------------------------------------------------------

function withTurn(state: ChatState, n: number, f: (t: TurnView) => TurnView): ChatState {
  const i = state.turns.findIndex((t) => t.turn === n)
  if (i >= 0) {
    const next = f(state.turns[i])
    if (next === state.turns[i]) return state
    const turns = state.turns.slice()
    turns[i] = next
    return { ...state, turns }
  }
  const created = f({ turn: n, status: 'running', items: [] })
  const turns = [...state.turns, created].sort((a, b) => a.turn - b.turn)
  return { ...state, turns }
}

function toolIndex(t: TurnView, key: string): number {
  return t.items.findIndex((it) => it.kind === 'tool' && it.call.key === key)
}

/** lastToolIndex finds the latest call with an LLM call ID (events without a step). */
function lastToolIndex(t: TurnView, pred: (c: ToolCallView) => boolean): number {
  for (let i = t.items.length - 1; i >= 0; i--) {
    const it = t.items[i]
    if (it.kind === 'tool' && pred(it.call)) return i
  }
  return -1
}

function maxStep(t: TurnView): number {
  return t.items.reduce((m, it) => Math.max(m, it.kind === 'text' ? it.step : it.call.step), 0)
}

/** insertAt returns where an item of this step goes: after every item of earlier or equal steps. */
function insertIndex(t: TurnView, step: number, beforeToolsOfStep: boolean): number {
  for (let i = 0; i < t.items.length; i++) {
    const it = t.items[i]
    const s = it.kind === 'text' ? it.step : it.call.step
    if (s > step || (beforeToolsOfStep && s === step && it.kind === 'tool')) return i
  }
  return t.items.length
}

function upsertTool(t: TurnView, step: number, id: string, f: (c: ToolCallView) => ToolCallView, tool = ''): TurnView {
  const key = `${step}:${id}`
  const i = toolIndex(t, key)
  const items = t.items.slice()
  if (i >= 0) {
    const cur = (items[i] as { kind: 'tool'; call: ToolCallView }).call
    const next = f(cur)
    if (next === cur) return t
    items[i] = { kind: 'tool', call: next }
  } else {
    const call = f({ key, id, step, tool, status: 'planned' })
    items.splice(insertIndex(t, step, false), 0, { kind: 'tool', call })
  }
  return { ...t, items }
}

function updateToolAt(t: TurnView, i: number, f: (c: ToolCallView) => ToolCallView): TurnView {
  const items = t.items.slice()
  const cur = (items[i] as { kind: 'tool'; call: ToolCallView }).call
  items[i] = { kind: 'tool', call: f(cur) }
  return { ...t, items }
}

function setFinalText(t: TurnView, step: number, content: string): TurnView {
  const i = t.items.findIndex((it) => it.kind === 'text' && it.step === step)
  const items = t.items.slice()
  if (i >= 0) {
    const cur = items[i] as Extract<TurnItem, { kind: 'text' }>
    if (cur.final && cur.text === content) return t
    items[i] = { ...cur, text: content, final: true }
  } else {
    items.splice(insertIndex(t, step, true), 0, { kind: 'text', step, attempt: 0, text: content, final: true })
  }
  return { ...t, items }
}

function settleStatus(cur: TurnStatus, next: TurnStatus): TurnStatus {
  return finishedTurn.has(cur) ? cur : next
}

// --- history -----------------------------------------------------------------------------------

/** fromDetail builds the state of a conversation from its saved history. */
export function fromDetail(detail: ConversationDetail): ChatState {
  let state: ChatState = { conversationId: detail.id, title: detail.title, turns: [], lastEventId: 0 }
  for (const td of detail.turns ?? []) {
    state = withTurn(state, td.turn, (t) => ({
      ...t,
      status: turnStatus(td.status),
      error: td.error || undefined,
      workflowId: td.workflow_id,
      temporalUrl: td.temporal_url || undefined,
      startedAt: td.started_at,
    }))
  }
  const messages = [...(detail.messages ?? [])].sort((a, b) => a.turn - b.turn || a.seq - b.seq)
  for (const m of messages) {
    const step = stepOfSeq(m.seq)
    state = withTurn(state, m.turn, (t) => {
      if (m.role === 'user') return { ...t, userMessage: m.content }
      if (m.role === 'assistant') {
        let next = setFinalText(t, step, m.content)
        for (const tc of m.tool_calls ?? []) {
          next = upsertTool(
            next,
            step,
            tc.id,
            (c) => ({ ...c, tool: tc.tool, arguments: (tc.arguments ?? undefined) as Record<string, unknown> | undefined }),
            tc.tool,
          )
        }
        return next
      }
      if (m.role === 'tool' && m.tool_call_id) {
        // A tool message keeps the tool_finished payload (less what the message says itself).
        const data = (m.data ?? {}) as Partial<EventData<'tool_finished'>>
        const st = toolStatus(m.tool_status || data.status)
        return upsertTool(
          t,
          step,
          m.tool_call_id,
          (c) => ({
            ...c,
            tool: m.tool_name || c.tool,
            domain: data.domain || c.domain,
            arguments: (data.arguments ?? c.arguments) as Record<string, unknown> | undefined,
            status: st.status,
            errorType: st.errorType,
            error: data.error || undefined,
            durationMs: data.duration_ms,
            output: data.output,
            content: (data.content as ContentBlock[] | undefined) || undefined,
            isError: data.is_error || undefined,
            redacted: data.redacted || undefined,
            approver: data.approver || undefined,
            traceId: data.trace_id || c.traceId,
          }),
          m.tool_name ?? '',
        )
      }
      return t
    })
  }
  for (const r of detail.approvals ?? []) {
    if (r.turn === undefined) continue
    const m = /^step(\d+)-(.*)$/.exec(r.tool_call_id)
    const step = m ? Number(m[1]) : 0
    const id = m ? m[2] : r.tool_call_id
    const approval = approvalFromRequest(r)
    state = withTurn(state, r.turn, (t) =>
      upsertTool(
        t,
        step,
        id,
        (c) => ({
          ...c,
          tool: c.tool || r.tool,
          domain: c.domain || r.domain,
          arguments: c.arguments ?? approval.arguments,
          approval,
          status: c.status === 'planned' ? afterDecision(approval.status, c.status) : c.status,
        }),
        r.tool,
      ),
    )
  }
  // A turn that ended while a call was still only planned never ran it.
  state = {
    ...state,
    turns: state.turns.map((t) =>
      finishedTurn.has(t.status) && t.items.some((it) => it.kind === 'tool' && !finishedTool.has(it.call.status))
        ? {
            ...t,
            items: t.items.map((it) =>
              it.kind === 'tool' && !finishedTool.has(it.call.status)
                ? { kind: 'tool' as const, call: { ...it.call, status: 'cancelled' as const } }
                : it,
            ),
          }
        : t,
    ),
  }
  return state
}

function afterDecision(a: ApprovalStatus, cur: ToolStatus): ToolStatus {
  switch (a) {
    case 'pending':
      return 'awaiting_approval'
    case 'approved':
      return cur === 'planned' || cur === 'awaiting_approval' ? 'running' : cur
    case 'rejected':
      return 'rejected'
    case 'expired':
      return 'expired'
    case 'cancelled':
      return 'cancelled'
  }
}

// --- events ------------------------------------------------------------------------------------

/** applyEvent folds one stream event into the state. */
export function applyEvent(state: ChatState, e: StreamEvent): ChatState {
  const next = applyEventData(state, e)
  return e.id > next.lastEventId ? { ...next, lastEventId: e.id } : next
}

/** applyEventData applies what one event says, by its type; a type this client does not know changes nothing. */
function applyEventData(state: ChatState, e: StreamEvent): ChatState {
  switch (e.type) {
    case 'turn_started':
      return applyTurnStarted(state, e)
    case 'delta':
      return applyDelta(state, e)
    case 'message':
      return applyMessage(state, e)
    case 'tool_started':
      return applyToolStarted(state, e)
    case 'tool_finished':
      return applyToolFinished(state, e)
    case 'approval_requested':
      return applyApprovalRequested(state, e)
    case 'approval_decided':
      return applyApprovalDecided(state, e)
    case 'turn_completed':
    case 'turn_failed':
    case 'turn_cancelled':
      return applyTurnEnd(state, e)
    default:
      return state
  }
}

/** applyTurnStarted marks the turn running, unless it already finished. */
function applyTurnStarted(state: ChatState, e: StreamEventOf<'turn_started'>): ChatState {
  return withTurn(state, e.turn, (t) => (finishedTurn.has(t.status) ? t : { ...t, status: 'running' }))
}

/** applyDelta appends streamed text to its step, or restarts it for a retried attempt. */
function applyDelta(state: ChatState, e: StreamEventOf<'delta'>): ChatState {
  const { step, attempt, text } = e.data
  return withTurn(state, e.turn, (t) => {
    const i = t.items.findIndex((it) => it.kind === 'text' && it.step === step)
    if (i < 0) {
      const items = t.items.slice()
      items.splice(insertIndex(t, step, true), 0, { kind: 'text', step, attempt, text, final: false })
      return { ...t, items }
    }
    const cur = t.items[i] as Extract<TurnItem, { kind: 'text' }>
    if (cur.final || attempt < cur.attempt) return t // the step's final text is known, or a stale attempt
    const items = t.items.slice()
    // A retried step streams again from the start with a higher attempt: replace, don't append.
    items[i] = { ...cur, attempt, text: attempt > cur.attempt ? text : cur.text + text }
    return { ...t, items }
  })
}

/** applyMessage sets a step's final text and adds the tool calls it asked for. */
function applyMessage(state: ChatState, e: StreamEventOf<'message'>): ChatState {
  const m = e.data
  if (m.role && m.role !== 'assistant') return state
  return withTurn(state, e.turn, (t) => {
    let next = setFinalText(t, m.step, m.content ?? '')
    for (const tc of m.tool_calls ?? []) {
      next = upsertTool(
        next,
        m.step,
        tc.id,
        (c) => (c.tool === tc.tool && c.arguments ? c : { ...c, tool: tc.tool, arguments: c.arguments ?? tc.arguments ?? undefined }),
        tc.tool,
      )
    }
    return next
  })
}

/** applyToolStarted marks a call running, unless it already finished. */
function applyToolStarted(state: ChatState, e: StreamEventOf<'tool_started'>): ChatState {
  const s = e.data
  return withTurn(state, e.turn, (t) =>
    upsertTool(
      t,
      s.step ?? stepOf(t, s.tool_call_id),
      s.tool_call_id,
      (c) =>
        finishedTool.has(c.status)
          ? c
          : {
              ...c,
              tool: s.tool || c.tool,
              domain: s.domain || c.domain,
              summary: s.summary || c.summary,
              approver: s.approver || c.approver,
              traceId: s.trace_id || c.traceId,
              status: 'running',
            },
      s.tool,
    ),
  )
}

/** applyToolFinished records how a call ended. */
function applyToolFinished(state: ChatState, e: StreamEventOf<'tool_finished'>): ChatState {
  const f = e.data
  const st = toolStatus(f.status)
  return withTurn(state, e.turn, (t) =>
    upsertTool(
      t,
      f.step ?? stepOf(t, f.tool_call_id),
      f.tool_call_id,
      (c) => ({
        ...c,
        tool: f.tool || c.tool,
        domain: f.domain || c.domain,
        arguments: f.arguments ?? c.arguments,
        status: st.status,
        errorType: st.errorType,
        error: f.error || undefined,
        durationMs: f.duration_ms ?? c.durationMs,
        output: f.output,
        content: (f.content as ContentBlock[] | undefined) || undefined,
        isError: f.is_error || undefined,
        redacted: f.redacted || undefined,
        approver: f.approver || c.approver,
        traceId: f.trace_id || c.traceId,
      }),
      f.tool,
    ),
  )
}

/** applyApprovalRequested attaches a pending approval to its call and marks the turn waiting. */
function applyApprovalRequested(state: ChatState, e: StreamEventOf<'approval_requested'>): ChatState {
  const a = e.data
  const approval: ApprovalView = {
    id: a.approval_id,
    tool: a.tool,
    domain: a.domain,
    arguments: a.arguments ?? {},
    argsHash: a.args_hash,
    reason: a.reason,
    approverRoles: a.approver_roles ?? [],
    allowSelfApproval: !!a.allow_self_approval,
    requester: a.requester,
    requestedAt: e.created_at,
    expiresAt: a.expires_at,
    status: 'pending',
    conversationId: state.conversationId,
    turn: e.turn,
  }
  return withTurn(state, e.turn, (t) => {
    const attach = (c: ToolCallView): ToolCallView => {
      if (c.approval && c.approval.status !== 'pending') return c // already decided
      return {
        ...c,
        tool: c.tool || a.tool,
        domain: c.domain || a.domain,
        arguments: c.arguments ?? approval.arguments,
        approval: { ...approval, ...(c.approval ? { requestedAt: c.approval.requestedAt ?? approval.requestedAt } : {}) },
        status: finishedTool.has(c.status) || c.status === 'running' ? c.status : 'awaiting_approval',
      }
    }
    const i = lastToolIndex(t, (c) => c.approval?.id === a.approval_id || (!!a.tool_call_id && c.id === a.tool_call_id))
    const next = i >= 0 ? updateToolAt(t, i, attach) : upsertTool(t, maxStep(t), a.tool_call_id || a.approval_id, attach, a.tool)
    return { ...next, status: settleStatus(t.status, 'awaiting_approval') }
  })
}

/** applyApprovalDecided records a decision and lets the turn run on. */
function applyApprovalDecided(state: ChatState, e: StreamEventOf<'approval_decided'>): ChatState {
  const a = e.data
  return withTurn(state, e.turn, (t) => {
    const next = decide(t, a.approval_id, approvalStatus(a.status), a.approver, a.comment, a.tool_call_id)
    return next === t && t.status !== 'awaiting_approval' ? t : { ...next, status: settleStatus(t.status, 'running') }
  })
}

const endStatus = { turn_completed: 'completed', turn_failed: 'failed', turn_cancelled: 'cancelled' } as const

/** applyTurnEnd finishes the turn; one that did not complete cancels the calls still open. */
function applyTurnEnd(state: ChatState, e: StreamEventOf<keyof typeof endStatus>): ChatState {
  const end = e.data
  const status: TurnStatus = endStatus[e.type]
  return withTurn(state, e.turn, (t) => {
    if (t.status === status && t.answer === (end.answer || t.answer)) return t
    const items = status === 'completed' ? t.items : t.items.map(cancelOpenCall)
    return { ...t, items, status, answer: end.answer || t.answer, error: end.error || t.error }
  })
}

/** cancelOpenCall cancels a call that had not finished, and its pending approval. */
function cancelOpenCall(it: TurnItem): TurnItem {
  if (it.kind !== 'tool' || finishedTool.has(it.call.status)) return it
  const approval = it.call.approval?.status === 'pending' ? { ...it.call.approval, status: 'cancelled' as const } : it.call.approval
  return { kind: 'tool', call: { ...it.call, status: 'cancelled', approval } }
}

/** stepOf guesses the step of a call ID for events that do not carry one: its latest use. */
function stepOf(t: TurnView, id: string): number {
  const i = lastToolIndex(t, (c) => c.id === id)
  return i >= 0 ? (t.items[i] as { kind: 'tool'; call: ToolCallView }).call.step : maxStep(t)
}

function decide(
  t: TurnView,
  approvalId: string,
  status: ApprovalStatus,
  approver?: string,
  comment?: string,
  toolCallId?: string,
): TurnView {
  const i = lastToolIndex(t, (c) => c.approval?.id === approvalId || (!c.approval && !!toolCallId && c.id === toolCallId))
  if (i < 0) return t
  return updateToolAt(t, i, (c) => {
    const cur = c.approval
    if (cur && cur.status === status && (cur.approver ?? '') === (approver ?? cur.approver ?? '')) return c
    return {
      ...c,
      approval: cur ? { ...cur, status, approver: approver || cur.approver, comment: comment || cur.comment } : cur,
      status: afterDecision(status, c.status),
    }
  })
}

// --- reducer -----------------------------------------------------------------------------------

/** chatReducer is the reducer of the chat view. */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return { ...emptyChat, conversationId: action.conversationId }
    case 'loaded': {
      // Keep what the stream already delivered: replaying it over the fresh history is harmless.
      return { ...fromDetail(action.detail), lastEventId: 0, pending: state.pending }
    }
    case 'event':
      return applyEvent(state, action.event)
    case 'sending':
      return { ...state, pending: action.text }
    case 'sent': {
      const next = withTurn(state, action.info.turn, (t) => ({
        ...t,
        userMessage: t.userMessage ?? action.text,
        status: settleStatus(t.status, turnStatus(action.info.status)),
        workflowId: action.info.workflow_id,
        temporalUrl: action.info.temporal_url || t.temporalUrl,
      }))
      return { ...next, conversationId: action.info.conversation_id, pending: undefined }
    }
    case 'sendFailed':
      return { ...state, pending: undefined }
    case 'decided': {
      const turns = state.turns.map((t) => {
        const next = decide(t, action.approvalId, action.status, action.approver, action.comment)
        return next === t ? t : { ...next, status: settleStatus(t.status, 'running') }
      })
      return { ...state, turns }
    }
  }
}

/** activeTurn returns the turn still in progress, if any. */
export function activeTurn(state: ChatState): TurnView | undefined {
  return state.turns.find(isTurnActive)
}
