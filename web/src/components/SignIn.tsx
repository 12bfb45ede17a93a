// Sign-in: in dev mode, pick a demo user; otherwise (or on request) paste a bearer token from the
// identity provider.
import { useEffect, useId, useState } from 'react'
import { must, ApiError, type Api } from '../api/client'
import type { DemoUser } from '../api/types'
import { roleName } from '../lib/roles'
import { sessionFromToken, type Session } from '../lib/session'
import { ShieldIcon } from './Icons'

type DemoState = { kind: 'loading' } | { kind: 'ready'; users: DemoUser[] } | { kind: 'unavailable' } | { kind: 'error'; message: string }

export function SignIn({ api, onSignedIn, notice }: { api: Api; onSignedIn: (s: Session) => void; notice?: string }) {
  const [demo, setDemo] = useState<DemoState>({ kind: 'loading' })
  const [useToken, setUseToken] = useState(false)
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState('')
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    let live = true
    must(api.GET('/auth/demo-users'))
      .then((r) => live && setDemo({ kind: 'ready', users: r.users ?? [] }))
      .catch((e: unknown) => {
        if (!live) return
        if (e instanceof ApiError && e.status === 404) setDemo({ kind: 'unavailable' })
        else setDemo({ kind: 'error', message: e instanceof Error ? e.message : String(e) })
      })
    return () => {
      live = false
    }
  }, [api, attempt])

  async function signInAs(u: DemoUser) {
    setBusy(u.id)
    setError('')
    try {
      const r = await must(api.POST('/auth/token', { body: { user: u.id } }))
      onSignedIn({
        token: r.access_token,
        principal: { ...r.principal, name: r.principal.name || u.name },
        title: u.title,
        expiresAt: Date.now() + r.expires_in * 1000,
      })
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
      setBusy(null)
    }
  }

  const showToken = useToken || demo.kind === 'unavailable'

  return (
    <main className="signin">
      <div className="signin-panel">
        <div className="signin-brand">
          <span className="logo" aria-hidden="true">
            <ShieldIcon />
          </span>
          <div>
            <h1>MCP Platform</h1>
            <p className="muted">Chat with an assistant that works on your business systems — safely.</p>
          </div>
        </div>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {!showToken && demo.kind === 'loading' && (
          <div className="user-grid" aria-busy="true" aria-label="Loading demo users">
            {[0, 1, 2, 3].map((i) => (
              <div key={i} className="user-card skeleton" />
            ))}
          </div>
        )}
        {!showToken && demo.kind === 'ready' && (
          <section aria-labelledby="demo-heading">
            <h2 id="demo-heading">Sign in as a demo user</h2>
            <p className="muted small">Development mode: pick a person to see what they may do.</p>
            <ul className="user-grid">
              {demo.users.map((u) => (
                <li key={u.id}>
                  <button
                    type="button"
                    className="user-card"
                    onClick={() => void signInAs(u)}
                    disabled={busy !== null}
                    aria-label={`Sign in as ${u.name}, ${u.title}`}
                  >
                    <span className="avatar" aria-hidden="true">
                      {initials(u.name)}
                    </span>
                    <span className="user-card-text">
                      <span className="user-name">{u.name}</span>
                      <span className="user-title">{u.title}</span>
                      <span className="roles">
                        {(u.roles ?? []).map((r) => (
                          <span key={r} className="role-chip">
                            {roleName(r)}
                          </span>
                        ))}
                      </span>
                    </span>
                    {busy === u.id && <span className="spinner" aria-hidden="true" />}
                  </button>
                </li>
              ))}
            </ul>
            <button type="button" className="link-button" onClick={() => setUseToken(true)}>
              Use a token instead
            </button>
          </section>
        )}
        {!showToken && demo.kind === 'error' && (
          <div className="form-error" role="alert">
            <p>Could not reach the platform: {demo.message}</p>
            <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>{' '}
            <button type="button" className="link-button" onClick={() => setUseToken(true)}>
              Paste a token
            </button>
          </div>
        )}
        {showToken && (
          <TokenForm
            onSignedIn={onSignedIn}
            onBack={demo.kind === 'ready' ? () => setUseToken(false) : undefined}
          />
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </main>
  )
}

function TokenForm({ onSignedIn, onBack }: { onSignedIn: (s: Session) => void; onBack?: () => void }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState('')
  const id = useId()
  return (
    <form
      className="token-form"
      aria-labelledby={`${id}-h`}
      onSubmit={(e) => {
        e.preventDefault()
        try {
          onSignedIn(sessionFromToken(token))
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err))
        }
      }}
    >
      <h2 id={`${id}-h`}>Sign in with a token</h2>
      <p className="muted small">Paste an access token (JWT) issued by your identity provider.</p>
      <label htmlFor={id}>Access token</label>
      <textarea
        id={id}
        rows={4}
        value={token}
        onChange={(e) => setToken(e.target.value)}
        placeholder="eyJhbGciOi…"
        spellCheck={false}
        autoComplete="off"
        required
      />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        {onBack && (
          <button type="button" className="link-button" onClick={onBack}>
            Back to demo users
          </button>
        )}
        <button type="submit" className="button primary" disabled={!token.trim()}>
          Sign in
        </button>
      </div>
    </form>
  )
}

export function initials(name: string | undefined): string {
  const parts = (name ?? '?').trim().split(/\s+/)
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase()
}
