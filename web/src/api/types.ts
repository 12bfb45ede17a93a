// Names for the generated OpenAPI types (schema.d.ts, from openapi/gateway.json) and the event
// payloads, whose shape the OpenAPI document leaves open ("depends on type").
import type { components } from './schema'

type S = components['schemas']

export type Conversation = S['Conversation']
export type ConversationDetail = S['ConversationDetail']
export type Message = S['Message']
export type TurnDetail = S['TurnDetail']
export type TurnInfo = S['TurnInfo']
export type ApprovalRequest = S['Request']
export type DemoUser = S['DemoUser']
export type Principal = S['Principal']
export type ToolInfo = S['ToolInfo']
export type StreamEvent = S['StreamEvent']
export type StreamEventType = StreamEvent['type']
export type Problem = S['ErrorModel']
export type AuditRecord = S['Record']
export type AuditPage = S['AuditOutputBody']

/** Payload of a `delta` event: a piece of an LLM step's streamed text. */
export interface DeltaData {
  step: number
  attempt: number
  text: string
}

/** A tool call the assistant made, as the events carry it. */
export interface ToolCallData {
  id: string
  tool: string
  arguments?: Record<string, unknown> | null
}

/** Payload of a `message` event: the final text and tool calls of an LLM step. */
export interface MessageData {
  step: number
  role: string
  content: string
  tool_calls?: ToolCallData[] | null
}

/** Payload of a `tool_started` event. */
export interface ToolStartedData {
  tool: string
  tool_call_id: string
  step?: number
  domain?: string
  summary?: string
  approver?: string
}

/** Payload of a `tool_finished` event. */
export interface ToolFinishedData {
  tool: string
  tool_call_id: string
  step?: number
  domain?: string
  status: string
  duration_ms?: number
  arguments?: Record<string, unknown> | null
  output?: unknown
  error?: string
  approver?: string
}

/** Payload of an `approval_requested` event. */
export interface ApprovalRequestedData {
  approval_id: string
  tool: string
  tool_call_id?: string
  domain?: string
  arguments?: Record<string, unknown> | null
  args_hash: string
  reason?: string
  approver_roles?: string[] | null
  allow_self_approval?: boolean
  requester?: string
  expires_at?: string
}

/** Payload of an `approval_decided` event. */
export interface ApprovalDecidedData {
  approval_id: string
  tool?: string
  tool_call_id?: string
  status: string
  approver?: string
  comment?: string
}

/** Payload of `turn_completed`, `turn_failed` and `turn_cancelled`. */
export interface TurnEndData {
  status?: string
  answer?: string
  error?: string
}
