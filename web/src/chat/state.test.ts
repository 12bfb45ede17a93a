import { describe, expect, it } from 'vitest'
import type { ConversationDetail, EventData, StreamEvent, StreamEventOf, StreamEventType } from '../api/types'
import { applyEvent, chatReducer, emptyChat, fromDetail, type ChatState, type ToolCallView, type TurnItem } from './state'

let nextId = 1
// Loose is a payload with any field left out, at any depth: the tests give only what they need.
type Loose<T> = T extends (infer U)[] ? Loose<U>[] : T extends object ? { [P in keyof T]?: Loose<T[P]> } : T

// ev is an event of the given type as the gateway streams it.
function ev<K extends StreamEventType>(type: K, data: Loose<EventData<K>>, turn = 1): StreamEvent {
  return { id: nextId++, turn, type, data, created_at: '2026-11-24T08:02:40Z' } as unknown as StreamEventOf<K>
}
function run(events: StreamEvent[], from: ChatState = emptyChat): ChatState {
  return events.reduce((s, e) => chatReducer(s, { type: 'event', event: e }), from)
}
const texts = (s: ChatState, turn = 1) =>
  s.turns.find((t) => t.turn === turn)!.items.filter((i): i is Extract<TurnItem, { kind: 'text' }> => i.kind === 'text')
const tools = (s: ChatState, turn = 1) =>
  s.turns.find((t) => t.turn === turn)!.items.filter((i) => i.kind === 'tool').map((i) => (i as { call: ToolCallView }).call)

const employee = { id: 'E001', name: 'Sarah Johnson', salary: '[REDACTED]' }

// The events of "Get employee E001" as the gateway streams them.
function employeeTurn(): StreamEvent[] {
  return [
    ev('delta', { step: 1, attempt: 1, text: 'Let me check that ' }),
    ev('delta', { step: 1, attempt: 1, text: 'with hr.get_employee.' }),
    ev('message', {
      step: 1,
      role: 'assistant',
      content: 'Let me check that with hr.get_employee.',
      tool_calls: [{ id: 'call_1', tool: 'hr.get_employee', arguments: { employee_id: 'E001' } }],
    }),
    ev('tool_started', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', domain: 'hr', summary: 'hr.get_employee employee_id=E001' }),
    ev('tool_finished', {
      step: 1,
      tool: 'hr.get_employee',
      tool_call_id: 'call_1',
      domain: 'hr',
      status: 'ok',
      duration_ms: 69,
      arguments: { employee_id: 'E001' },
      output: employee,
      error: '',
      approver: '',
    }),
    ev('delta', { step: 2, attempt: 1, text: '**Sarah Johnson** ' }),
    ev('delta', { step: 2, attempt: 1, text: '(E001)' }),
    ev('message', { step: 2, role: 'assistant', content: '**Sarah Johnson** (E001)', tool_calls: null }),
    ev('turn_completed', { status: 'completed', answer: '**Sarah Johnson** (E001)', error: '' }),
  ]
}

describe('chat state from events', () => {
  it('keeps the trace ID the tool events carry', () => {
    const trace = '5b8efff798038103d269b633813fc60c'
    const s = run([
      ev('tool_started', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', domain: 'hr', summary: 's', trace_id: trace }),
      ev('tool_finished', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', domain: 'hr', status: 'ok', output: {}, trace_id: trace }),
    ])
    expect(tools(s)[0]).toMatchObject({ status: 'ok', traceId: trace })
  })

  it('streams text, then a tool call, then the answer, in order', () => {
    const events = employeeTurn()
    const mid = run(events.slice(0, 2))
    expect(texts(mid)).toEqual([{ kind: 'text', step: 1, attempt: 1, text: 'Let me check that with hr.get_employee.', final: false }])

    const s = run(events)
    const turn = s.turns[0]
    expect(turn.status).toBe('completed')
    expect(turn.items.map((i) => (i.kind === 'text' ? `text:${i.step}` : `tool:${i.call.key}`))).toEqual([
      'text:1',
      'tool:1:call_1',
      'text:2',
    ])
    expect(tools(s)[0]).toMatchObject({
      tool: 'hr.get_employee',
      domain: 'hr',
      status: 'ok',
      durationMs: 69,
      arguments: { employee_id: 'E001' },
      output: employee,
    })
    expect(texts(s)[1]).toMatchObject({ text: '**Sarah Johnson** (E001)', final: true })
    expect(s.lastEventId).toBe(events[events.length - 1].id)
  })

  it('replaces the text of a retried step instead of appending to it', () => {
    const s = run([
      ev('delta', { step: 1, attempt: 1, text: 'The answer is ' }),
      ev('delta', { step: 1, attempt: 1, text: 'forty-' }),
      // The LLM call failed and Temporal retried the step: it streams again from the start.
      ev('delta', { step: 1, attempt: 2, text: 'The answer ' }),
      ev('delta', { step: 1, attempt: 2, text: 'is 42.' }),
      // A late delta of the failed attempt is stale.
      ev('delta', { step: 1, attempt: 1, text: 'two' }),
    ])
    expect(texts(s)).toEqual([{ kind: 'text', step: 1, attempt: 2, text: 'The answer is 42.', final: false }])
  })

  it('takes the final text from the message event and ignores later deltas of the step', () => {
    const s = run([
      ev('delta', { step: 1, attempt: 1, text: 'Hel' }),
      ev('message', { step: 1, role: 'assistant', content: 'Hello.' }),
      ev('delta', { step: 1, attempt: 3, text: 'junk' }),
    ])
    expect(texts(s)).toEqual([{ kind: 'text', step: 1, attempt: 1, text: 'Hello.', final: true }])
  })

  it('is idempotent: replaying the stream over its own result changes nothing', () => {
    const events = employeeTurn()
    const once = run(events)
    const twice = run(events, once)
    expect(twice.turns).toEqual(once.turns)
  })

  it('follows an approval: requested, approved, run', () => {
    const s1 = run([
      ev('message', {
        step: 1,
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', tool: 'devops.scale_deployment', arguments: { deployment_name: 'api-server', replicas: 3 } }],
      }),
      ev('approval_requested', {
        approval_id: 'apr-0123456789abcdef',
        tool: 'devops.scale_deployment',
        domain: 'devops',
        tool_call_id: 'call_1',
        arguments: { deployment_name: 'api-server', replicas: 3 },
        args_hash: 'abc',
        reason: 'devops.scale_deployment changes a business system',
        approver_roles: ['admin', 'sre_lead'],
        allow_self_approval: false,
        requester: 'carol',
        expires_at: '2026-11-25T08:00:00Z',
      }),
    ])
    expect(s1.turns[0].status).toBe('awaiting_approval')
    expect(tools(s1)[0]).toMatchObject({
      status: 'awaiting_approval',
      domain: 'devops',
      approval: { id: 'apr-0123456789abcdef', status: 'pending', approverRoles: ['admin', 'sre_lead'], requester: 'carol', argsHash: 'abc' },
    })

    const s2 = run(
      [
        ev('approval_decided', { approval_id: 'apr-0123456789abcdef', tool_call_id: 'call_1', status: 'approved', approver: 'dan', comment: 'ok' }),
        ev('tool_started', { step: 1, tool: 'devops.scale_deployment', tool_call_id: 'call_1', domain: 'devops', approver: 'dan' }),
        ev('tool_finished', { step: 1, tool: 'devops.scale_deployment', tool_call_id: 'call_1', status: 'ok', duration_ms: 12, output: { before: 2, after: 3 }, approver: 'dan' }),
      ],
      s1,
    )
    expect(s2.turns[0].status).toBe('running')
    expect(tools(s2)[0]).toMatchObject({ status: 'ok', approver: 'dan', approval: { status: 'approved', approver: 'dan', comment: 'ok' } })
  })

  it('shows a rejection and an expiry as outcomes of the call', () => {
    const base = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'c', tool: 'erp.create_invoice', arguments: {} }] }),
      ev('approval_requested', { approval_id: 'apr-1', tool: 'erp.create_invoice', tool_call_id: 'c', args_hash: 'h', approver_roles: ['finance_manager'] }),
    ])
    const rejected = run(
      [
        ev('approval_decided', { approval_id: 'apr-1', status: 'rejected', approver: 'fiona', comment: 'wrong customer' }),
        ev('tool_finished', { step: 1, tool: 'erp.create_invoice', tool_call_id: 'c', status: 'rejected', error: 'rejected by fiona: wrong customer' }),
      ],
      base,
    )
    expect(tools(rejected)[0]).toMatchObject({ status: 'rejected', approval: { status: 'rejected', approver: 'fiona', comment: 'wrong customer' } })

    const expired = run([ev('approval_decided', { approval_id: 'apr-1', status: 'expired' })], base)
    expect(tools(expired)[0].status).toBe('expired')
  })

  it('keeps a denial and other tool errors with their type', () => {
    const s = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'a', tool: 'hr.get_employee' }, { id: 'b', tool: 'hr.get_employee' }] }),
      ev('tool_finished', { step: 1, tool: 'hr.get_employee', tool_call_id: 'a', status: 'denied', error: 'bob may not call hr.get_employee' }),
      ev('tool_finished', { step: 1, tool: 'hr.get_employee', tool_call_id: 'b', status: 'not_found', error: 'no employee E999' }),
    ])
    expect(tools(s).map((c) => [c.status, c.errorType, c.error])).toEqual([
      ['denied', undefined, 'bob may not call hr.get_employee'],
      ['error', 'not_found', 'no employee E999'],
    ])
  })

  it('keeps call IDs of different steps apart', () => {
    const s = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'call_1', tool: 'hr.get_employee' }] }),
      ev('tool_finished', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', status: 'ok', output: 1 }),
      ev('message', { step: 2, role: 'assistant', content: '', tool_calls: [{ id: 'call_1', tool: 'hr.get_manager' }] }),
      ev('tool_started', { step: 2, tool: 'hr.get_manager', tool_call_id: 'call_1' }),
    ])
    expect(tools(s).map((c) => [c.key, c.tool, c.status])).toEqual([
      ['1:call_1', 'hr.get_employee', 'ok'],
      ['2:call_1', 'hr.get_manager', 'running'],
    ])
  })

  it('never moves a finished turn back to running', () => {
    const s = run([ev('turn_failed', { status: 'failed', error: 'the LLM is not configured' }), ev('turn_started', {}), ev('approval_decided', { approval_id: 'x', status: 'approved' })])
    expect(s.turns[0]).toMatchObject({ status: 'failed', error: 'the LLM is not configured' })
  })

  it('marks calls that never ran when a turn is cancelled', () => {
    const s = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'c', tool: 'devops.scale_deployment' }] }),
      ev('approval_requested', { approval_id: 'apr-2', tool: 'devops.scale_deployment', tool_call_id: 'c', args_hash: 'h' }),
      ev('turn_cancelled', { status: 'cancelled', error: 'the turn was cancelled' }),
    ])
    expect(s.turns[0].status).toBe('cancelled')
    expect(tools(s)[0]).toMatchObject({ status: 'cancelled', approval: { status: 'cancelled' } })
  })
})

describe('chat state from history', () => {
  const detail: ConversationDetail = {
    id: 'f3e1a39f-599a-44f2-b90c-cfc39220eac4',
    user_id: 'carol',
    title: 'Scale',
    created_at: '2026-11-24T08:02:58Z',
    updated_at: '2026-11-24T08:02:58Z',
    last_turn: 2,
    last_event_id: 0,
    turns: [
      { turn: 1, workflow_id: 'chat-x-1', status: 'completed', started_at: '', temporal_url: 'http://t/1' },
      { turn: 2, workflow_id: 'chat-x-2', status: 'awaiting_approval', started_at: '', temporal_url: 'http://t/2' },
    ],
    messages: [
      { id: 1, turn: 1, seq: 0, role: 'user', content: 'Get employee E001', created_at: '' },
      { id: 2, turn: 1, seq: 100, role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', tool: 'hr.get_employee', arguments: { employee_id: 'E001' } }], created_at: '' },
      {
        id: 3,
        turn: 1,
        seq: 101,
        role: 'tool',
        content: '{}',
        tool_call_id: 'call_1',
        tool_name: 'hr.get_employee',
        tool_status: 'ok',
        data: { domain: 'hr', duration_ms: 69, arguments: { employee_id: 'E001' }, output: employee, status: 'ok' },
        created_at: '',
      },
      { id: 4, turn: 1, seq: 200, role: 'assistant', content: 'Sarah Johnson', created_at: '' },
      { id: 5, turn: 2, seq: 0, role: 'user', content: 'scale api-server to 3 replicas', created_at: '' },
      { id: 6, turn: 2, seq: 100, role: 'assistant', content: '', tool_calls: [{ id: 'call_1', tool: 'devops.scale_deployment', arguments: { replicas: 3 } }], created_at: '' },
    ],
    approvals: [
      {
        id: 'apr-bcb9d95e8edb8976',
        workflow_id: 'chat-x-2',
        conversation_id: 'f3e1a39f-599a-44f2-b90c-cfc39220eac4',
        turn: 2,
        tool_call_id: 'step1-call_1',
        tool: 'devops.scale_deployment',
        domain: 'devops',
        arguments: { replicas: 3 },
        args_hash: 'h',
        requester: 'carol',
        approver_roles: ['admin', 'sre_lead'],
        allow_self_approval: false,
        reason: 'changes a business system',
        status: 'pending',
        requested_at: '2026-11-24T08:02:58Z',
        expires_at: '2026-11-25T08:02:58Z',
      },
    ],
  }

  it('rebuilds turns, tool results and pending approvals', () => {
    const s = fromDetail(detail)
    expect(s.turns.map((t) => [t.turn, t.status, t.userMessage, t.temporalUrl])).toEqual([
      [1, 'completed', 'Get employee E001', 'http://t/1'],
      [2, 'awaiting_approval', 'scale api-server to 3 replicas', 'http://t/2'],
    ])
    expect(tools(s, 1)[0]).toMatchObject({ status: 'ok', durationMs: 69, output: employee, domain: 'hr' })
    expect(texts(s, 1).map((t) => t.text)).toEqual(['Checking.', 'Sarah Johnson'])
    expect(tools(s, 2)[0]).toMatchObject({
      key: '1:call_1',
      status: 'awaiting_approval',
      approval: { id: 'apr-bcb9d95e8edb8976', status: 'pending', approverRoles: ['admin', 'sre_lead'] },
    })
  })

  it('merges the replayed stream without duplicating anything', () => {
    const history = fromDetail(detail)
    const replay = [
      ev('delta', { step: 1, attempt: 1, text: 'Check' }),
      ev('message', { step: 1, role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', tool: 'hr.get_employee', arguments: { employee_id: 'E001' } }] }),
      ev('tool_started', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', domain: 'hr' }),
      ev('tool_finished', { step: 1, tool: 'hr.get_employee', tool_call_id: 'call_1', status: 'ok', duration_ms: 69, output: employee, domain: 'hr', arguments: { employee_id: 'E001' } }),
      ev('message', { step: 2, role: 'assistant', content: 'Sarah Johnson' }),
      ev('turn_completed', { status: 'completed', answer: 'Sarah Johnson' }),
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'call_1', tool: 'devops.scale_deployment', arguments: { replicas: 3 } }] }, 2),
      ev('approval_requested', { approval_id: 'apr-bcb9d95e8edb8976', tool: 'devops.scale_deployment', tool_call_id: 'call_1', args_hash: 'h', approver_roles: ['admin', 'sre_lead'], requester: 'carol' }, 2),
    ]
    const merged = run(replay, history)
    expect(merged.turns.map((t) => t.items.length)).toEqual(history.turns.map((t) => t.items.length))
    expect(tools(merged, 1)[0].status).toBe('ok')
    expect(tools(merged, 2)[0]).toMatchObject({ status: 'awaiting_approval', approval: { status: 'pending' } })
  })
})

describe('chat reducer actions', () => {
  it('shows a message being sent, then the accepted turn', () => {
    let s = chatReducer(emptyChat, { type: 'sending', text: 'hello' })
    expect(s.pending).toBe('hello')
    s = chatReducer(s, {
      type: 'sent',
      text: 'hello',
      info: { conversation_id: 'c1', turn: 1, workflow_id: 'chat-c1-1', status: 'running', events_url: '/e', temporal_url: 'http://t' },
    })
    expect(s.pending).toBeUndefined()
    expect(s.conversationId).toBe('c1')
    expect(s.turns[0]).toMatchObject({ turn: 1, userMessage: 'hello', status: 'running', temporalUrl: 'http://t' })
  })

  it('applies a decision made here before its event arrives', () => {
    const s0 = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'c', tool: 't' }] }),
      ev('approval_requested', { approval_id: 'apr-3', tool: 't', tool_call_id: 'c', args_hash: 'h' }),
    ])
    const s1 = chatReducer(s0, { type: 'decided', approvalId: 'apr-3', status: 'approved', approver: 'dan' })
    expect(tools(s1)[0]).toMatchObject({ status: 'running', approval: { status: 'approved', approver: 'dan' } })
    expect(s1.turns[0].status).toBe('running')
  })

  it('ignores a stale event id for lastEventId', () => {
    const s = applyEvent({ ...emptyChat, lastEventId: 50 }, { ...ev('turn_started', {}), id: 10 })
    expect(s.lastEventId).toBe(50)
  })
})

describe('redacted results', () => {
  it('marks a call whose output was masked for this viewer, from the stream and from the history', () => {
    const s = run([
      ev('message', { step: 1, role: 'assistant', content: '', tool_calls: [{ id: 'c', tool: 'hr.get_department', arguments: {} }] }),
      ev('tool_finished', { step: 1, tool: 'hr.get_department', tool_call_id: 'c', status: 'ok', output: { head_salary: '[REDACTED]' }, redacted: true }),
    ])
    expect(tools(s)[0].redacted).toBe(true)
    const detail = {
      id: 'conv', title: 't', turns: [{ turn: 1, status: 'completed' }],
      messages: [
        { turn: 1, seq: 100, role: 'assistant', content: '', tool_calls: [{ id: 'c', tool: 'hr.get_department', arguments: {} }] },
        { turn: 1, seq: 101, role: 'tool', content: '{}', tool_call_id: 'c', tool_name: 'hr.get_department', tool_status: 'ok',
          data: { status: 'ok', output: { head_salary: '[REDACTED]' }, redacted: true } },
      ],
    } as unknown as ConversationDetail
    expect(tools(fromDetail(detail))[0].redacted).toBe(true)
  })
})
