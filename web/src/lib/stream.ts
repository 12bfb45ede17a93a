// followEvents reads a conversation's event stream with fetch (so it can send the bearer token),
// reconnects with exponential backoff when the connection drops or the server ends it, and
// resumes with Last-Event-ID so no event is lost or repeated.

import { SSEParser } from './sse'
import type { StreamEvent } from '../api/types'

/** Where a followed stream stands. */
export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** A failure that reconnecting will not fix (the token expired, the conversation is gone). */
export class StreamError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'StreamError'
  }
}

export interface FollowOptions {
  /** The stream's URL, such as /conversations/<id>/events. */
  url: string
  /** Returns the current bearer token. */
  token: () => string | null
  /** Resume after this event ID ("" or absent: from the start). */
  lastEventId?: string
  /** Called for each `message` event, in order. */
  onEvent: (e: StreamEvent) => void
  /** Called when the connection state changes; delayMs is the wait before the next attempt. */
  onStatus?: (s: StreamStatus, info?: { delayMs?: number; error?: unknown }) => void
  /** Stops following. */
  signal: AbortSignal
  /** The fetch to use (tests inject one). */
  fetch?: typeof fetch
  /** Waits ms unless the signal aborts first (tests inject one). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** First and largest reconnect delays (ms) and the growth factor. */
  backoff?: { initialMs?: number; maxMs?: number; factor?: number }
  /** Returns a number in [0, 1) for jitter (tests inject a constant). */
  random?: () => number
  /**
   * Reconnect when nothing (not even a ping) arrived for this long; the gateway pings every 15 s,
   * so silence means a dead connection that TCP has not noticed. 0 disables the check.
   */
  idleTimeoutMs?: number
  /**
   * A "retry" event on this target ends the wait before the next reconnect attempt at once
   * (the user asked to retry, or the browser came back online).
   */
  nudge?: EventTarget
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

/** nextDelay is the backoff delay before reconnect attempt n (0-based), with up to 20% jitter. */
export function nextDelay(n: number, opts: FollowOptions['backoff'] = {}, random = Math.random): number {
  const initial = opts.initialMs ?? 500
  const max = opts.maxMs ?? 15_000
  const factor = opts.factor ?? 2
  const base = Math.min(max, initial * Math.pow(factor, n))
  return Math.round(base * (1 - 0.2 * random()))
}

/**
 * followEvents follows the stream until the signal aborts (then it resolves) or a permanent
 * error occurs (then it rejects with a StreamError: 401, 403, 404). Network drops, server
 * errors and a stream the server closed are retried with backoff, resuming after the last
 * event received.
 */
export async function followEvents(opts: FollowOptions): Promise<void> {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
  const sleep = opts.sleep ?? defaultSleep
  const random = opts.random ?? Math.random
  const idleTimeoutMs = opts.idleTimeoutMs ?? 45_000
  let lastEventId = opts.lastEventId ?? ''
  let failures = 0
  let serverRetry: number | undefined

  while (!opts.signal.aborted) {
    opts.onStatus?.(failures === 0 ? 'connecting' : 'reconnecting')
    const attempt = new AbortController()
    const abort = () => attempt.abort()
    opts.signal.addEventListener('abort', abort, { once: true })
    let idle: ReturnType<typeof setTimeout> | undefined
    const touch = () => {
      if (idleTimeoutMs <= 0) return
      clearTimeout(idle)
      idle = setTimeout(() => attempt.abort(), idleTimeoutMs)
    }
    let error: unknown
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' }
      const token = opts.token()
      if (token) headers.Authorization = `Bearer ${token}`
      if (lastEventId) headers['Last-Event-ID'] = lastEventId
      touch()
      const res = await doFetch(opts.url, { headers, signal: attempt.signal, cache: 'no-store' })
      if (res.status === 401 || res.status === 403 || res.status === 404) {
        throw new StreamError(await problemText(res), res.status)
      }
      if (!res.ok || !res.body) {
        throw new Error(`the event stream answered ${res.status}`)
      }
      opts.onStatus?.('open')
      let received = false
      const parser = new SSEParser((m) => {
        if (m.event !== 'message') return // pings and unknown events only keep the line alive
        let ev: StreamEvent
        try {
          ev = JSON.parse(m.data) as StreamEvent
        } catch {
          return // a malformed event cannot be shown; skip it
        }
        lastEventId = m.lastEventId || String(ev.id ?? lastEventId)
        opts.onEvent(ev)
      }, lastEventId)
      const reader = res.body.getReader()
      // Ends a pending read when this attempt is aborted (stop, or the idle timeout), whatever
      // the fetch implementation does with its body.
      const stopReading = () => void reader.cancel().catch(() => undefined)
      attempt.signal.addEventListener('abort', stopReading, { once: true })
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          touch()
          if (value && value.length > 0 && !received) {
            received = true
            failures = 0 // the connection works: the next drop starts the backoff afresh
          }
          parser.feedBytes(value)
          if (parser.lastEventId) lastEventId = parser.lastEventId
        }
      } finally {
        attempt.signal.removeEventListener('abort', stopReading)
        reader.releaseLock?.()
      }
      serverRetry = parser.retry ?? serverRetry
    } catch (e) {
      if (e instanceof StreamError) {
        opts.onStatus?.('closed', { error: e })
        throw e
      }
      error = e
    } finally {
      clearTimeout(idle)
      opts.signal.removeEventListener('abort', abort)
    }
    if (opts.signal.aborted) break
    const delayMs = failures === 0 && serverRetry !== undefined ? serverRetry : nextDelay(failures, opts.backoff, random)
    failures++
    opts.onStatus?.('reconnecting', { delayMs, error })
    await sleepUnlessNudged(sleep, delayMs, opts.signal, opts.nudge)
  }
  opts.onStatus?.('closed')
}

/** sleepUnlessNudged waits like sleep, ending early on a "retry" event of nudge. */
async function sleepUnlessNudged(
  sleep: (ms: number, signal: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal,
  nudge?: EventTarget,
): Promise<void> {
  if (!nudge) return sleep(ms, signal)
  const wake = new AbortController()
  const stop = () => wake.abort()
  signal.addEventListener('abort', stop, { once: true })
  nudge.addEventListener('retry', stop, { once: true })
  try {
    await sleep(ms, wake.signal)
  } finally {
    signal.removeEventListener('abort', stop)
    nudge.removeEventListener('retry', stop)
  }
}

async function problemText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { detail?: string; title?: string }
    return body.detail || body.title || `the event stream answered ${res.status}`
  } catch {
    return `the event stream answered ${res.status}`
  }
}
