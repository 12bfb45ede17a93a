// Names for the generated OpenAPI types (schema.d.ts, from openapi/gateway.json). The stream's
// events are a union on type there, each with its own payload, so narrowing on type types data.
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
/** StreamEventOf is the stream event of one type. */
export type StreamEventOf<K extends StreamEventType> = Extract<StreamEvent, { type: K }>
/** EventData is the payload of one event type. */
export type EventData<K extends StreamEventType> = StreamEventOf<K>['data']
export type Problem = S['ErrorModel']
export type AuditRecord = S['Record']
export type AuditPage = S['AuditOutputBody']
export type UsageReport = S['UsageOutputBody']
export type UsersUsage = S['UserUsageOutputBody']
export type UsageTotals = S['Totals']
