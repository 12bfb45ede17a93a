import { describe, expect, it, vi } from 'vitest'
import type { StreamEvent } from '../api/types'
import { followEvents, nextDelay, StreamError } from './stream'

const enc = new TextEncoder()

function ev(id: number, type: StreamEvent['type'] = 'delta', data: unknown = { step: 1, attempt: 1, text: `t${id}` }): string {
  return `id: ${id}\ndata: ${JSON.stringify({ id, turn: 1, type, data, created_at: '2026-01-01T00:00:00Z' })}\n\n`
}

/** A response whose body yields the chunks and then ends, or fails when fail is set. */
function streamResponse(chunks: string[], opts: { fail?: boolean; status?: number } = {}): Response {
  let i = 0
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (i < chunks.length) {
        ctrl.enqueue(enc.encode(chunks[i++]))
      } else if (opts.fail) {
        ctrl.error(new TypeError('network error'))
      } else {
        ctrl.close()
      }
    },
  })
  return new Response(body, { status: opts.status ?? 200, headers: { 'Content-Type': 'text/event-stream' } })
}

interface Call {
  url: string
  headers: Record<string, string>
}

function harness(responses: (() => Response | Promise<Response>)[]) {
  const calls: Call[] = []
  const events: StreamEvent[] = []
  const delays: number[] = []
  const statuses: string[] = []
  const ctl = new AbortController()
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) } })
    const next = responses.shift()
    if (!next) {
      ctl.abort() // no more scripted answers: stop the test
      throw new DOMException('aborted', 'AbortError')
    }
    return next()
  })
  const run = followEvents({
    url: '/conversations/c1/events',
    token: () => 'tok',
    signal: ctl.signal,
    fetch: fetch as unknown as typeof globalThis.fetch,
    sleep: async (ms) => {
      delays.push(ms)
    },
    random: () => 0,
    idleTimeoutMs: 0,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
  })
  return { run, calls, events, delays, statuses, ctl }
}

describe('followEvents', () => {
  it('sends the bearer token and delivers message events in order, skipping pings', async () => {
    const h = harness([() => streamResponse([ev(1) + 'event: ping\ndata: {"time":"x"}\n\n', ev(2)], { fail: true })])
    await h.run
    expect(h.calls[0].headers.Authorization).toBe('Bearer tok')
    expect(h.calls[0].headers.Accept).toBe('text/event-stream')
    expect(h.calls[0].headers['Last-Event-ID']).toBeUndefined()
    expect(h.events.map((e) => e.id)).toEqual([1, 2])
  })

  it('reconnects after a drop and resumes with Last-Event-ID', async () => {
    const h = harness([
      () => streamResponse([ev(1), ev(2), 'id: 3\ndata: {"partial'], { fail: true }),
      () => streamResponse([ev(3), ev(4)]),
    ])
    await h.run
    expect(h.calls).toHaveLength(3)
    expect(h.calls[1].headers['Last-Event-ID']).toBe('2')
    expect(h.calls[2].headers['Last-Event-ID']).toBe('4')
    expect(h.events.map((e) => e.id)).toEqual([1, 2, 3, 4])
    expect(h.statuses).toContain('reconnecting')
  })

  it('backs off exponentially while the server is down and resets once it answers', async () => {
    const down = () => Promise.reject(new TypeError('connection refused'))
    const h = harness([down, down, () => new Response('oops', { status: 502 }), () => streamResponse([ev(9)]), down])
    await h.run
    // Three failures back off 0.5, 1, 2 s; the stream that worked resets the backoff.
    expect(h.delays).toEqual([500, 1000, 2000, 500, 1000])
  })

  it('retries at once when nudged, instead of waiting out the backoff', async () => {
    const nudge = new EventTarget()
    const ctl = new AbortController()
    let calls = 0
    let nudged = false
    const started = Date.now()
    const run = followEvents({
      url: '/conversations/c1/events',
      token: () => 'tok',
      signal: ctl.signal,
      nudge,
      idleTimeoutMs: 0,
      backoff: { initialMs: 60_000 },
      fetch: (async () => {
        calls++
        if (calls === 1) throw new TypeError('connection refused')
        ctl.abort()
        throw new DOMException('aborted', 'AbortError')
      }) as unknown as typeof globalThis.fetch,
      onEvent: () => undefined,
      onStatus: (s) => {
        // Nudge once: the retry reports 'reconnecting' again, and a second timer could
        // fire after this file's environment is gone.
        if (s === 'reconnecting' && !nudged) {
          nudged = true
          setTimeout(() => nudge.dispatchEvent(new Event('retry')), 10)
        }
      },
    })
    await run
    expect(calls).toBe(2)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('caps the delay and adds at most 20% jitter', () => {
    expect(nextDelay(20, { initialMs: 500, maxMs: 15_000 }, () => 0)).toBe(15_000)
    expect(nextDelay(0, {}, () => 0.999)).toBeGreaterThanOrEqual(400)
  })

  it('stops with a StreamError when the token is refused', async () => {
    const h = harness([
      () =>
        new Response(JSON.stringify({ status: 401, detail: 'the bearer token is not valid: token expired' }), {
          status: 401,
          headers: { 'Content-Type': 'application/problem+json' },
        }),
    ])
    await expect(h.run).rejects.toEqual(new StreamError('the bearer token is not valid: token expired', 401))
    expect(h.calls).toHaveLength(1)
  })

  it('resolves when aborted mid-stream', async () => {
    const ctl = new AbortController()
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(ev(1)))
      },
    })
    const seen: number[] = []
    const run = followEvents({
      url: '/e',
      token: () => null,
      signal: ctl.signal,
      idleTimeoutMs: 0,
      fetch: (async (_u: RequestInfo | URL, init?: RequestInit) => {
        const res = new Response(body)
        init?.signal?.addEventListener('abort', () => void body.cancel().catch(() => undefined))
        return res
      }) as typeof fetch,
      onEvent: (e) => {
        seen.push(e.id)
        ctl.abort()
      },
    })
    await expect(run).resolves.toBeUndefined()
    expect(seen).toEqual([1])
  })

  it('reconnects when the line goes silent for longer than the idle timeout', async () => {
    vi.useFakeTimers()
    try {
      const ctl = new AbortController()
      const calls: string[] = []
      const run = followEvents({
        url: '/e',
        token: () => 't',
        signal: ctl.signal,
        idleTimeoutMs: 1000,
        sleep: async () => undefined,
        fetch: (async (_u: RequestInfo | URL, init?: RequestInit) => {
          calls.push((init?.headers as Record<string, string>)['Last-Event-ID'] ?? '')
          if (calls.length > 1) {
            ctl.abort()
            throw new DOMException('aborted', 'AbortError')
          }
          // Sends one event, then nothing: a half-open connection.
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(enc.encode(ev(5)))
              init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
            },
          })
          return new Response(body)
        }) as typeof fetch,
        onEvent: () => undefined,
      })
      await vi.advanceTimersByTimeAsync(1500)
      await run
      expect(calls).toEqual(['', '5'])
    } finally {
      vi.useRealTimers()
    }
  })
})
