// The application shell: sign-in, then the conversation list beside the current screen.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { createApi, must, type Api } from './api/client'
import { AuditLog } from './components/AuditLog'
import { ChatView } from './components/ChatView'
import { ConversationList } from './components/ConversationList'
import { ChatIcon, CloseIcon, GaugeIcon, LogIcon, LogoutIcon, MenuIcon, ShieldIcon } from './components/Icons'
import { PendingApprovals } from './components/PendingApprovals'
import { initials, SignIn } from './components/SignIn'
import { UsageView } from './components/UsageView'
import { navigate, useRoute, type Route } from './lib/router'
import { roleName } from './lib/roles'
import { clearSession, loadSession, saveSession, type Session } from './lib/session'

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession())
  const [notice, setNotice] = useState('')
  const tokenRef = useRef(session?.token ?? null)
  tokenRef.current = session?.token ?? null

  const signOut = useCallback((message = '') => {
    clearSession()
    setSession(null)
    setNotice(message)
  }, [])
  const expired = useCallback(() => signOut('Your session has ended. Please sign in again.'), [signOut])

  const api = useMemo(() => createApi({ token: () => tokenRef.current, onUnauthorized: expired }), [expired])

  if (!session) {
    return (
      <SignIn
        api={api}
        notice={notice}
        onSignedIn={(s) => {
          saveSession(s)
          tokenRef.current = s.token
          setNotice('')
          setSession(s)
        }}
      />
    )
  }
  return <Shell api={api} session={session} onSignOut={() => signOut('')} onUnauthorized={expired} />
}

function Shell({
  api,
  session,
  onSignOut,
  onUnauthorized,
}: {
  api: Api
  session: Session
  onSignOut: () => void
  onUnauthorized: () => void
}) {
  const route = useRoute()
  const [version, setVersion] = useState(0)
  const [drawer, setDrawer] = useState(false)
  const [pending, setPending] = useState(0)
  const me = session.principal
  const isAuditor = (me.roles ?? []).some((r) => r === 'auditor' || r === 'admin')
  const isAdmin = (me.roles ?? []).includes('admin')
  const refresh = useCallback(() => setVersion((v) => v + 1), [])

  // The badge on "Pending approvals": requests this user may decide.
  useEffect(() => {
    if (route.name === 'approvals') return
    let live = true
    const load = () =>
      must(api.GET('/approvals'))
        .then((r) => live && setPending((r.approvals ?? []).length))
        .catch(() => undefined)
    void load()
    const t = setInterval(load, 15_000)
    return () => {
      live = false
      clearInterval(t)
    }
  }, [api, route.name])

  const go = (r: Route) => {
    setDrawer(false)
    navigate(r)
  }
  const conversationId = route.name === 'chat' ? route.conversationId : undefined

  return (
    <div className="app">
      <header className="topbar">
        <button
          type="button"
          className="icon-button only-narrow"
          aria-label={drawer ? 'Close conversations' : 'Open conversations'}
          aria-expanded={drawer}
          aria-controls="sidebar"
          onClick={() => setDrawer((d) => !d)}
        >
          {drawer ? <CloseIcon /> : <MenuIcon />}
        </button>
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault()
            go({ name: 'chat' })
          }}
        >
          <span className="logo" aria-hidden="true">
            <ShieldIcon />
          </span>
          <span className="brand-name">MCP Platform</span>
        </a>
        <nav className="mainnav" aria-label="Main">
          <NavLink active={route.name === 'chat'} onClick={() => go({ name: 'chat', conversationId })} href="/" icon={<ChatIcon />}>
            <span className="nav-text">Chat</span>
          </NavLink>
          <NavLink
            active={route.name === 'approvals'}
            onClick={() => go({ name: 'approvals' })}
            href="/pending-approvals"
            icon={<ShieldIcon />}
            label={pending > 0 ? `Pending approvals (${pending})` : 'Pending approvals'}
          >
            <span className="nav-text">Pending approvals</span>
            {pending > 0 && (
              <span className="count" aria-hidden="true">
                {pending}
              </span>
            )}
          </NavLink>
          {isAuditor && (
            <NavLink active={route.name === 'audit'} onClick={() => go({ name: 'audit' })} href="/audit-log" icon={<LogIcon />}>
              <span className="nav-text">Audit</span>
            </NavLink>
          )}
          <NavLink active={route.name === 'usage'} onClick={() => go({ name: 'usage' })} href="/my-usage" icon={<GaugeIcon />}>
            <span className="nav-text">Usage</span>
          </NavLink>
        </nav>
        <div className="me">
          <span className="avatar small" aria-hidden="true">
            {initials(me.name || me.sub)}
          </span>
          <span className="me-text">
            <span className="me-name">{me.name || me.sub}</span>
            <span className="me-roles">{session.title || (me.roles ?? []).map(roleName).join(', ')}</span>
          </span>
          <button type="button" className="icon-button" aria-label="Sign out" title="Sign out" onClick={onSignOut}>
            <LogoutIcon />
          </button>
        </div>
      </header>
      <div className="layout">
        <aside id="sidebar" className={drawer ? 'sidebar open' : 'sidebar'}>
          <ConversationList
            api={api}
            activeId={conversationId}
            version={version}
            onOpen={(id) => go({ name: 'chat', conversationId: id })}
            onDeleted={(id) => {
              if (id === conversationId) navigate({ name: 'chat' }, { replace: true })
            }}
          />
        </aside>
        {drawer && <div className="scrim only-narrow" aria-hidden="true" onClick={() => setDrawer(false)} />}
        <main className="main">
          {route.name === 'chat' && (
            <ChatView
              api={api}
              session={session}
              conversationId={conversationId}
              onCreated={(id) => navigate({ name: 'chat', conversationId: id }, { replace: true })}
              onChanged={refresh}
              onGone={() => {
                refresh()
                navigate({ name: 'chat' }, { replace: true })
              }}
              onUnauthorized={onUnauthorized}
            />
          )}
          {route.name === 'approvals' && <PendingApprovals api={api} me={me} onCount={setPending} onUnauthorized={onUnauthorized} />}
          {route.name === 'audit' && <AuditLog api={api} onUnauthorized={onUnauthorized} />}
          {route.name === 'usage' && <UsageView api={api} isAdmin={isAdmin} onUnauthorized={onUnauthorized} />}
        </main>
      </div>
    </div>
  )
}

function NavLink({
  active,
  onClick,
  href,
  icon,
  label,
  children,
}: {
  active: boolean
  onClick: () => void
  href: string
  icon: React.ReactNode
  label?: string
  children: React.ReactNode
}) {
  return (
    <a
      href={href}
      className={active ? 'navlink active' : 'navlink'}
      aria-current={active ? 'page' : undefined}
      aria-label={label}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
        e.preventDefault()
        onClick()
      }}
    >
      {icon}
      {children}
    </a>
  )
}
