import { describe, expect, it } from 'vitest'
import { connectionNotice, progressText, turnProgress } from './liveness'
import type { TurnView } from './state'

const running: TurnView = { turn: 2, status: 'running', items: [] }

describe('connectionNotice', () => {
  it('says nothing while the stream is open or connecting', () => {
    expect(connectionNotice({ stream: 'open' }, 0)).toBe('')
    expect(connectionNotice({ stream: 'connecting' }, 0)).toBe('')
  })

  it('says the platform cannot be reached, and when it tries again', () => {
    expect(connectionNotice({ stream: 'reconnecting', retryAt: 4_200 }, 1_000)).toMatch(/^Can’t reach the platform\..*Trying again in 4 s…$/)
    expect(connectionNotice({ stream: 'reconnecting', retryAt: 900 }, 1_000)).toMatch(/Trying again now…$/)
  })

  it('says a message was not sent when the platform could not be reached', () => {
    expect(connectionNotice({ stream: 'open', sendUnreachable: true }, 0)).toMatch(/your message was not sent/)
    expect(connectionNotice({ stream: 'reconnecting', sendUnreachable: true, retryAt: 2_000 }, 0)).toMatch(/your message was not sent.*Trying again in 2 s…$/)
  })
})

describe('turnProgress', () => {
  it('is quiet while a turn moves, then says it is still working, then that something may be wrong', () => {
    expect(turnProgress(running, 0, 9_999)).toEqual({ kind: 'none' })
    expect(turnProgress(running, 0, 20_400)).toEqual({ kind: 'slow', seconds: 20 })
    expect(progressText(turnProgress(running, 0, 20_400))).toBe('Still working… (20 s)')
    const stalled = turnProgress(running, 0, 61_000)
    expect(stalled).toEqual({ kind: 'stalled', seconds: 61 })
    expect(progressText(stalled)).toMatch(/^Still working… \(61 s\)\. This is taking longer than usual/)
  })

  it('is not slow while waiting for an approval, or once finished', () => {
    expect(turnProgress({ ...running, status: 'awaiting_approval' }, 0, 99_000)).toEqual({ kind: 'none' })
    expect(turnProgress({ ...running, status: 'completed' }, 0, 99_000)).toEqual({ kind: 'none' })
    expect(turnProgress(undefined, 0, 99_000)).toEqual({ kind: 'none' })
  })
})
