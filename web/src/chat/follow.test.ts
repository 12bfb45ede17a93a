import { describe, expect, it } from 'vitest'
import { distanceFromBottom, followReducer, initialFollow, type FollowEvent, type FollowState } from './follow'

const run = (events: FollowEvent[], from: FollowState = initialFollow) => events.reduce(followReducer, from)
const at = (top: number, height = 3000, client = 800): FollowEvent => ({ type: 'scroll', top, height, client })

describe('followReducer', () => {
  it('keeps following while long answers grow below and the view scrolls down to them', () => {
    // Three long answers: each grows the content, and the view scrolls (smoothly: in steps) down.
    let s = initialFollow
    for (const height of [3000, 6000, 9000]) {
      s = run([{ type: 'content' }, at(height - 2400, height), at(height - 1600, height), at(height - 800, height)], s)
      expect(s.following).toBe(true)
    }
    expect(s.unseen).toBe(false)
  })

  it('keeps following when a smooth scroll is still far from the bottom', () => {
    const s = run([at(0, 5000), at(600, 5000), at(1800, 5000)])
    expect(s.following).toBe(true)
  })

  it('stops following when the reader scrolls up, and offers the new content', () => {
    let s = run([at(2200), at(1500)])
    expect(s.following).toBe(false)
    expect(s.unseen).toBe(false)
    s = followReducer(s, { type: 'content' })
    expect(s).toMatchObject({ following: false, unseen: true })
  })

  it('follows again at the bottom, or when the reader jumps there', () => {
    const up = run([at(2200), at(1000), { type: 'content' }])
    expect(run([at(2190)], up)).toMatchObject({ following: true, unseen: false })
    expect(run([{ type: 'jump' }], up)).toMatchObject({ following: true, unseen: false })
  })

  it('ignores sub-pixel jitter', () => {
    expect(run([at(1000), at(999.5)]).following).toBe(true)
  })

  it('measures the distance to the bottom', () => {
    expect(distanceFromBottom(100, 1000, 800)).toBe(100)
    expect(distanceFromBottom(300, 1000, 800)).toBe(0)
  })
})
