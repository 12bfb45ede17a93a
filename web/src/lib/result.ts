// Decides how a tool's structured result is shown: arrays of objects as a table, objects as
// key/value rows, lists of plain values as a list, anything else as text.

export type Shape =
  | { kind: 'empty' }
  | { kind: 'scalar'; value: string | number | boolean | null }
  | { kind: 'list'; items: unknown[] }
  | { kind: 'table'; columns: string[]; rows: Record<string, unknown>[] }
  | { kind: 'kv'; entries: [string, unknown][] }

/** REDACTED is how the platform replaces sensitive values before anyone sees them. */
export const REDACTED = '[REDACTED]'

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** shapeOf classifies a value for display. */
export function shapeOf(value: unknown): Shape {
  if (value === undefined) return { kind: 'empty' }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'scalar', value }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'empty' }
    if (value.every(isPlainObject)) return { kind: 'table', columns: columnsOf(value), rows: value }
    return { kind: 'list', items: value }
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value)
    if (entries.length === 0) return { kind: 'empty' }
    return { kind: 'kv', entries }
  }
  return { kind: 'scalar', value: String(value) }
}

/** columnsOf lists the keys of the rows in the order they first appear. */
export function columnsOf(rows: Record<string, unknown>[]): string[] {
  const seen = new Set<string>()
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k)
  return [...seen]
}

/** humanize turns a field name such as hire_date or employeeId into "Hire date", "Employee id". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .trim()
    .toLowerCase()
  if (!words) return key
  return words
    .split(' ')
    .map((w, i) => (ACRONYMS.has(w) ? w.toUpperCase() : i === 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ')
}

const ACRONYMS = new Set(['id', 'hr', 'erp', 'sre', 'api', 'url', 'ip', 'po', 'cpu', 'vat', 'sku'])

/** formatScalar renders a plain value as text. */
export function formatScalar(v: unknown): string {
  if (v === null || v === undefined) return '—'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toLocaleString(undefined, { maximumFractionDigits: 6 })
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}
