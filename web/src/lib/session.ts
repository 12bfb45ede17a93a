// The signed-in user: a bearer token and who it says the user is. Kept in localStorage so a
// reload keeps the user signed in; the server verifies the token on every call.
import type { Principal } from '../api/types'

export interface Session {
  token: string
  principal: Principal
  /** Display name and title, when known (demo users). */
  title?: string
  /** When the token expires (ms since the epoch), when known. */
  expiresAt?: number
}

const KEY = 'mcp-platform.session'

export function loadSession(storage: Storage | undefined = globalThis.localStorage): Session | null {
  try {
    const raw = storage?.getItem(KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Session
    if (!s.token || !s.principal?.sub) return null
    if (s.expiresAt && s.expiresAt <= Date.now()) {
      storage?.removeItem(KEY)
      return null
    }
    return s
  } catch {
    return null
  }
}

export function saveSession(s: Session, storage: Storage | undefined = globalThis.localStorage): void {
  storage?.setItem(KEY, JSON.stringify(s))
}

export function clearSession(storage: Storage | undefined = globalThis.localStorage): void {
  storage?.removeItem(KEY)
}

/**
 * sessionFromToken reads a pasted JWT's claims (sub, name, roles or groups, exp) to show who is
 * signed in. It does not verify the signature: the server does, on the first call.
 */
export function sessionFromToken(token: string): Session {
  const t = token.trim().replace(/^Bearer\s+/i, '')
  const parts = t.split('.')
  if (parts.length !== 3) throw new Error('This does not look like a JWT (three dot-separated parts).')
  let claims: Record<string, unknown>
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/')
    const json = decodeURIComponent(
      Array.from(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), '=')), (c) =>
        '%' + c.charCodeAt(0).toString(16).padStart(2, '0'),
      ).join(''),
    )
    claims = JSON.parse(json) as Record<string, unknown>
  } catch {
    throw new Error('The token could not be read.')
  }
  const sub = typeof claims.sub === 'string' ? claims.sub : ''
  if (!sub) throw new Error('The token has no subject (sub claim).')
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [])
  const roles = [...new Set([...list(claims.roles), ...list(claims.groups)])]
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
  if (exp && exp <= Date.now()) throw new Error('The token has expired.')
  return {
    token: t,
    principal: { sub, name: typeof claims.name === 'string' ? claims.name : undefined, roles },
    expiresAt: exp,
  }
}
