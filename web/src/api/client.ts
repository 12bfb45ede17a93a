// The gateway API client, generated from openapi/gateway.json (npm run gen:api) and wrapped
// with the bearer token and problem-details errors.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import type { Problem } from './types'

/** ApiError is a failed API call with the server's plain-words explanation. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem?: Problem,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export type Api = ReturnType<typeof createClient<paths>>

/**
 * createApi returns a typed client that sends the current token and calls onUnauthorized when
 * the server refuses it (expired or revoked), so the app can ask the user to sign in again.
 */
export function createApi(opts: {
  baseUrl?: string
  token: () => string | null
  onUnauthorized?: () => void
  fetch?: typeof fetch
}): Api {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl ?? (typeof window === 'undefined' ? '' : window.location.origin),
    fetch: opts.fetch,
  })
  const auth: Middleware = {
    onRequest({ request, schemaPath }) {
      const token = opts.token()
      if (token && !schemaPath.startsWith('/auth/')) request.headers.set('Authorization', `Bearer ${token}`)
      return request
    },
    onResponse({ response, schemaPath }) {
      if (response.status === 401 && !schemaPath.startsWith('/auth/')) opts.onUnauthorized?.()
      return response
    },
  }
  client.use(auth)
  return client
}

/** problemMessage turns an error body into a sentence a person can act on. */
export function problemMessage(error: unknown, status?: number): string {
  if (error && typeof error === 'object') {
    const p = error as Problem
    const detail = p.detail || p.title
    const first = p.errors?.[0]?.message
    if (detail && first && !detail.includes(first)) return `${detail}: ${first}`
    if (detail) return detail
  }
  if (status === 0 || status === undefined) return 'The server could not be reached. Check your connection and try again.'
  return `The server answered ${status}.`
}

/**
 * must unwraps an openapi-fetch result: the data, or an ApiError with the server's message.
 * Network failures (fetch rejecting) become an ApiError with status 0.
 */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response }
  try {
    r = await call
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(problemMessage(undefined, 0), 0)
  }
  if (r.error !== undefined || !r.response.ok) {
    throw new ApiError(problemMessage(r.error, r.response.status), r.response.status, r.error as Problem)
  }
  return r.data as T
}
