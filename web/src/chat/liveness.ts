// What the chat tells people when something is slow or wrong: the platform cannot be reached
// (the event stream keeps failing, or a message could not be sent), or a turn has gone quiet
// for a while. Each is said in plain words, and goes away by itself once things recover.

import type { StreamStatus } from '../lib/stream'
import type { TurnView } from './state'

/** SLOW_AFTER_MS is how long a running turn may go quiet before the chat says it is still working. */
export const SLOW_AFTER_MS = 10_000
/** STALLED_AFTER_MS is when the chat adds that something may be wrong. */
export const STALLED_AFTER_MS = 45_000

export interface Connection {
  stream: StreamStatus
  /** When the next reconnect attempt is due (ms since the epoch), while reconnecting. */
  retryAt?: number
  /** Sending a message failed because the platform could not be reached. */
  sendUnreachable?: boolean
}

/** connectionNotice is the banner text for the connection, or '' when all is well. */
export function connectionNotice(c: Connection, now: number): string {
  const unsent = 'Can’t reach the platform, so your message was not sent. It is still in the box: send it again in a moment.'
  if (c.stream === 'reconnecting') {
    const wait = c.retryAt !== undefined ? Math.ceil((c.retryAt - now) / 1000) : 0
    const retry = wait > 0 ? `Trying again in ${wait} s…` : 'Trying again now…'
    if (c.sendUnreachable) return `${unsent} ${retry}`
    return `Can’t reach the platform. New messages and results will appear once it is back. ${retry}`
  }
  if (c.sendUnreachable) return unsent
  return ''
}

export type TurnProgress =
  | { kind: 'none' }
  /** The turn is working but has been quiet for `seconds`. */
  | { kind: 'slow' | 'stalled'; seconds: number }

/**
 * turnProgress says how a running turn is doing: nothing to say while things happen, "still
 * working" once it has been quiet for SLOW_AFTER_MS, and a hint that something may be wrong
 * after STALLED_AFTER_MS. A turn waiting for a person's approval is not slow.
 */
export function turnProgress(turn: TurnView | undefined, quietSince: number | undefined, now: number): TurnProgress {
  if (!turn || quietSince === undefined || turn.status !== 'running') return { kind: 'none' }
  const quiet = now - quietSince
  const seconds = Math.floor(quiet / 1000)
  if (quiet >= STALLED_AFTER_MS) return { kind: 'stalled', seconds }
  if (quiet >= SLOW_AFTER_MS) return { kind: 'slow', seconds }
  return { kind: 'none' }
}

/** progressText is what the chat shows for a turn's progress ('' for none). */
export function progressText(p: TurnProgress): string {
  switch (p.kind) {
    case 'none':
      return ''
    case 'slow':
      return `Still working… (${p.seconds} s)`
    case 'stalled':
      return (
        `Still working… (${p.seconds} s). This is taking longer than usual: a system the assistant needs may be ` +
        'slow or down. You can keep waiting, or stop and try again later.'
      )
  }
}
