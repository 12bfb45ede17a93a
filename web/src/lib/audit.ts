// The audit view's filters and how they become a GET /audit query.
import type { operations } from '../api/schema'

export type AuditQuery = NonNullable<operations['list-audit-records']['parameters']['query']>
export type AuditOutcome = NonNullable<AuditQuery['outcome']>

/** OUTCOMES lists every outcome the server records, in the order the filter offers them. */
export const OUTCOMES: readonly AuditOutcome[] = ['succeeded', 'started', 'denied', 'invalid', 'failed', 'unknown', 'rejected', 'expired']

export const outcomeLabel: Record<AuditOutcome, string> = {
  started: 'Started',
  succeeded: 'Succeeded',
  denied: 'Denied',
  invalid: 'Invalid',
  failed: 'Failed',
  unknown: 'Outcome unknown',
  rejected: 'Rejected',
  expired: 'Expired',
}

/** The page size the view asks for (the server allows 1..200). */
export const PAGE_SIZE = 50

/**
 * AuditFilters are the filter bar's values as the user typed them. since and until are the
 * values of datetime-local inputs ("2026-05-01T09:30"), in the browser's time zone.
 */
export interface AuditFilters {
  user: string
  tool: string
  outcome: AuditOutcome | ''
  since: string
  until: string
}

export const NO_FILTERS: AuditFilters = { user: '', tool: '', outcome: '', since: '', until: '' }

/** isOutcome says whether s is an outcome the server knows. */
export function isOutcome(s: string): s is AuditOutcome {
  return (OUTCOMES as readonly string[]).includes(s)
}

/**
 * localToRFC3339 turns a datetime-local value, read in the browser's time zone, into an RFC 3339
 * time in UTC ("2026-05-01T07:30:00Z"); undefined when it is empty or not a time.
 */
export function localToRFC3339(value: string): string | undefined {
  const v = value.trim()
  if (!v) return undefined
  const t = new Date(v)
  if (Number.isNaN(t.getTime())) return undefined
  return t.toISOString().replace('.000Z', 'Z')
}

/** filterProblem says in plain words what is wrong with the filters, or '' when nothing is. */
export function filterProblem(f: AuditFilters): string {
  if (f.since.trim() && !localToRFC3339(f.since)) return '“Since” is not a valid date and time.'
  if (f.until.trim() && !localToRFC3339(f.until)) return '“Until” is not a valid date and time.'
  const since = localToRFC3339(f.since)
  const until = localToRFC3339(f.until)
  if (since && until && Date.parse(until) <= Date.parse(since)) return '“Until” must be later than “Since”.'
  return ''
}

/** auditQuery builds the GET /audit query for the filters, and the page after cursor if given. */
export function auditQuery(f: AuditFilters, cursor?: string, limit = PAGE_SIZE): AuditQuery {
  const q: AuditQuery = { limit }
  const user = f.user.trim()
  const tool = f.tool.trim()
  if (user) q.user = user
  if (tool) q.tool = tool
  if (f.outcome) q.outcome = f.outcome
  const since = localToRFC3339(f.since)
  const until = localToRFC3339(f.until)
  if (since) q.since = since
  if (until) q.until = until
  if (cursor) q.cursor = cursor
  return q
}

/** hasFilters says whether any filter is set. */
export function hasFilters(f: AuditFilters): boolean {
  return !!(f.user.trim() || f.tool.trim() || f.outcome || f.since.trim() || f.until.trim())
}
