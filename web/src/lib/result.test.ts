import { describe, expect, it } from 'vitest'
import { formatScalar, humanize, shapeOf } from './result'

describe('shapeOf', () => {
  it.each([
    ['an array of objects as a table', [{ id: 'E1', name: 'A' }, { id: 'E2', dept: 'Ops' }], { kind: 'table', columns: ['id', 'name', 'dept'] }],
    ['an object as key/value rows', { id: 'E1', active: true }, { kind: 'kv', entries: [['id', 'E1'], ['active', true]] }],
    ['a list of values as a list', ['a', 'b'], { kind: 'list', items: ['a', 'b'] }],
    ['a mixed array as a list', [{ a: 1 }, 2], { kind: 'list' }],
    ['an empty array as empty', [], { kind: 'empty' }],
    ['an empty object as empty', {}, { kind: 'empty' }],
    ['a string as a scalar', 'done', { kind: 'scalar', value: 'done' }],
    ['null as a scalar', null, { kind: 'scalar', value: null }],
    ['undefined as empty', undefined, { kind: 'empty' }],
  ])('shows %s', (_name, value, want) => {
    expect(shapeOf(value)).toMatchObject(want)
  })
})

describe('humanize', () => {
  it.each([
    ['hire_date', 'Hire date'],
    ['employee_id', 'Employee ID'],
    ['directReports', 'Direct reports'],
    ['sre_lead', 'SRE lead'],
    ['id', 'ID'],
  ])('%s → %s', (key, want) => expect(humanize(key)).toBe(want))
})

describe('formatScalar', () => {
  it('says yes/no for booleans and a dash for null', () => {
    expect(formatScalar(true)).toBe('yes')
    expect(formatScalar(false)).toBe('no')
    expect(formatScalar(null)).toBe('—')
    expect(formatScalar(42)).toBe('42')
  })
})
