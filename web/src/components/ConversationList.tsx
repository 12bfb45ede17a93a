// The user's conversations, most recent first: start a new one, switch, delete.
import { useCallback, useEffect, useState } from 'react'
import { must, type Api } from '../api/client'
import type { Conversation } from '../api/types'
import { absolute, relative } from '../lib/format'
import { PlusIcon, TrashIcon } from './Icons'

export interface ConversationListProps {
  api: Api
  activeId?: string
  /** Changes when the list should be read again (a message was sent, a turn ended). */
  version: number
  onOpen: (id: string | undefined) => void
  onDeleted: (id: string) => void
}

export function ConversationList({ api, activeId, version, onOpen, onDeleted }: ConversationListProps) {
  const [items, setItems] = useState<Conversation[] | null>(null)
  const [next, setNext] = useState<string | undefined>()
  const [error, setError] = useState('')
  const [confirming, setConfirming] = useState<string | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)

  const load = useCallback(async () => {
    try {
      const r = await must(api.GET('/conversations', { params: { query: { limit: 30 } } }))
      setItems(r.conversations ?? [])
      setNext(r.next_cursor || undefined)
      setError('')
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }, [api])

  useEffect(() => {
    void load()
  }, [load, version])

  async function more() {
    if (!next) return
    setLoadingMore(true)
    try {
      const r = await must(api.GET('/conversations', { params: { query: { limit: 30, cursor: next } } }))
      setItems((cur) => {
        const seen = new Set((cur ?? []).map((c) => c.id))
        return [...(cur ?? []), ...(r.conversations ?? []).filter((c) => !seen.has(c.id))]
      })
      setNext(r.next_cursor || undefined)
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    } finally {
      setLoadingMore(false)
    }
  }

  async function remove(id: string) {
    setConfirming(null)
    try {
      await must(api.DELETE('/conversations/{id}', { params: { path: { id } } }))
      setItems((cur) => (cur ?? []).filter((c) => c.id !== id))
      onDeleted(id)
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }

  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="button primary new-chat" onClick={() => onOpen(undefined)}>
        <PlusIcon /> New chat
      </button>
      {error && (
        <p className="form-error small" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && (
        <ul className="conv-list" aria-busy="true" aria-label="Loading conversations">
          {[0, 1, 2].map((i) => (
            <li key={i} className="conv-item skeleton" />
          ))}
        </ul>
      )}
      {items !== null && items.length === 0 && (
        <div className="empty small">
          <p>No conversations yet.</p>
          <p className="muted">Ask a question to start one.</p>
        </div>
      )}
      {items !== null && items.length > 0 && (
        <ul className="conv-list">
          {items.map((c) => (
            <li key={c.id} className={c.id === activeId ? 'conv-item active' : 'conv-item'}>
              {confirming === c.id ? (
                <div className="conv-confirm" role="group" aria-label={`Delete “${c.title}”?`}>
                  <span>Delete this conversation?</span>
                  <button type="button" className="button danger small" onClick={() => void remove(c.id)}>
                    Delete
                  </button>
                  <button type="button" className="button small" onClick={() => setConfirming(null)}>
                    Keep
                  </button>
                </div>
              ) : (
                <>
                  <a
                    href={`/c/${c.id}`}
                    className="conv-link"
                    aria-current={c.id === activeId ? 'page' : undefined}
                    onClick={(e) => {
                      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
                      e.preventDefault()
                      onOpen(c.id)
                    }}
                  >
                    <span className="conv-title">{c.title || 'Untitled'}</span>
                    <time className="conv-time" dateTime={c.updated_at} title={absolute(c.updated_at)}>
                      {relative(c.updated_at)}
                    </time>
                  </a>
                  <button
                    type="button"
                    className="icon-button subtle"
                    aria-label={`Delete conversation “${c.title}”`}
                    onClick={() => setConfirming(c.id)}
                  >
                    <TrashIcon />
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {next && (
        <button type="button" className="link-button" onClick={() => void more()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Show older'}
        </button>
      )}
    </nav>
  )
}
