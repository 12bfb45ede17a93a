// Small formatting helpers for times and durations.

/** duration formats milliseconds: "69 ms", "1.2 s", "2 min 5 s". */
export function duration(ms: number | undefined): string {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return ''
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return s ? `${m} min ${s} s` : `${m} min`
}

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['week', 7 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
]

/** relative formats a time relative to now: "5 minutes ago", "in 2 hours", "just now". */
export function relative(iso: string | undefined, now = Date.now()): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const diff = t - now
  const abs = Math.abs(diff)
  if (abs < 45_000) return diff < 0 ? 'just now' : 'in a moment'
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  for (const [unit, size] of units) {
    if (abs >= size) return fmt.format(Math.round(diff / size), unit)
  }
  return fmt.format(Math.round(diff / 60_000), 'minute')
}

/** absolute formats a time for a tooltip. */
export function absolute(iso: string | undefined): string {
  if (!iso) return ''
  const t = new Date(iso)
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleString()
}

const stamp = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** timestamp formats a time to the second, in the browser's time zone: "May 1, 2026, 9:30:05 AM". */
export function timestamp(iso: string | undefined): string {
  if (!iso) return ''
  const t = new Date(iso)
  return Number.isNaN(t.getTime()) ? '' : stamp.format(t)
}
