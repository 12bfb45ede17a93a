import { describe, expect, it } from 'vitest'
import { auditQuery, filterProblem, hasFilters, localToRFC3339, NO_FILTERS } from './audit'

describe('audit filters', () => {
  it('sends only the filters that are set, trimmed, with the page size', () => {
    expect(auditQuery(NO_FILTERS)).toEqual({ limit: 50 })
    expect(auditQuery({ ...NO_FILTERS, user: ' dan ', tool: ' hr.* ', outcome: 'failed' }, 'c-2', 10)).toEqual({
      limit: 10,
      user: 'dan',
      tool: 'hr.*',
      outcome: 'failed',
      cursor: 'c-2',
    })
  })

  it('reads datetime-local values in the local time zone and sends UTC', () => {
    expect(localToRFC3339('2026-11-24T09:30')).toBe(new Date(2026, 10, 24, 9, 30).toISOString().replace('.000Z', 'Z'))
    expect(localToRFC3339('2026-11-24T09:30')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(localToRFC3339('')).toBeUndefined()
    expect(localToRFC3339('not a time')).toBeUndefined()
  })

  it('explains a time range that is empty or backwards', () => {
    expect(filterProblem({ ...NO_FILTERS, since: '2026-11-24T10:00', until: '2026-11-24T10:00' })).toBe('“Until” must be later than “Since”.')
    expect(filterProblem({ ...NO_FILTERS, since: '2026-11-24T10:00', until: '2026-11-24T11:00' })).toBe('')
    expect(filterProblem({ ...NO_FILTERS, since: 'garbage' })).toBe('“Since” is not a valid date and time.')
  })

  it('knows whether any filter is set', () => {
    expect(hasFilters(NO_FILTERS)).toBe(false)
    expect(hasFilters({ ...NO_FILTERS, user: '  ' })).toBe(false)
    expect(hasFilters({ ...NO_FILTERS, outcome: 'denied' })).toBe(true)
  })
})
