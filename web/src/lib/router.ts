// A tiny history router: the app has five screens, which does not justify a routing library.
// Client routes must not collide with API paths (the gateway serves index.html only for paths
// no API route matches): /, /c/<conversation>, /pending-approvals, /audit-log, /my-usage.
import { useEffect, useState } from 'react'

export type Route =
  | { name: 'chat'; conversationId?: string }
  | { name: 'approvals' }
  | { name: 'audit' }
  | { name: 'usage' }

export function parseRoute(path: string): Route {
  const m = /^\/c\/([0-9a-fA-F-]{36})\/?$/.exec(path)
  if (m) return { name: 'chat', conversationId: m[1].toLowerCase() }
  if (/^\/pending-approvals\/?$/.test(path)) return { name: 'approvals' }
  if (/^\/audit-log\/?$/.test(path)) return { name: 'audit' }
  if (/^\/my-usage\/?$/.test(path)) return { name: 'usage' }
  return { name: 'chat' }
}

export function pathOf(r: Route): string {
  switch (r.name) {
    case 'chat':
      return r.conversationId ? `/c/${r.conversationId}` : '/'
    case 'approvals':
      return '/pending-approvals'
    case 'audit':
      return '/audit-log'
    case 'usage':
      return '/my-usage'
  }
}

const EVENT = 'mcp:navigate'

/** navigate changes the route; replace keeps the history entry (used after creating a chat). */
export function navigate(r: Route | string, opts: { replace?: boolean } = {}): void {
  const path = typeof r === 'string' ? r : pathOf(r)
  if (path === window.location.pathname) return
  if (opts.replace) window.history.replaceState(null, '', path)
  else window.history.pushState(null, '', path)
  window.dispatchEvent(new Event(EVENT))
}

/** useRoute follows the current route. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname))
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname))
    window.addEventListener('popstate', update)
    window.addEventListener(EVENT, update)
    return () => {
      window.removeEventListener('popstate', update)
      window.removeEventListener(EVENT, update)
    }
  }, [])
  return route
}
