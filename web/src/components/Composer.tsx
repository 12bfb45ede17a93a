// The message box: Enter sends, Shift+Enter starts a new line.
import { useEffect, useId, useRef, useState } from 'react'
import { SendIcon, StopIcon } from './Icons'

export interface ComposerProps {
  onSend: (text: string) => Promise<boolean>
  onStop?: () => void
  busy: boolean
  disabledReason?: string
  autoFocus?: boolean
  initial?: string
}

export function Composer({ onSend, onStop, busy, disabledReason, autoFocus, initial = '' }: ComposerProps) {
  const [text, setText] = useState(initial)
  const [sending, setSending] = useState(false)
  const ref = useRef<HTMLTextAreaElement>(null)
  const id = useId()

  useEffect(() => setText(initial), [initial])

  // Grow with the text up to a few lines.
  useEffect(() => {
    const el = ref.current
    if (!el) return
    el.style.height = 'auto'
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`
  }, [text])

  useEffect(() => {
    if (autoFocus) ref.current?.focus()
  }, [autoFocus])

  async function send() {
    const t = text.trim()
    if (!t || busy || sending) return
    setSending(true)
    const ok = await onSend(t)
    setSending(false)
    if (ok) setText('')
    ref.current?.focus()
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault()
        void send()
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Message
      </label>
      <textarea
        id={id}
        ref={ref}
        rows={1}
        value={text}
        maxLength={8000}
        placeholder={disabledReason ?? 'Ask anything…'}
        aria-describedby={`${id}-hint`}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault()
            void send()
          }
        }}
      />
      {busy && onStop ? (
        <button type="button" className="icon-button stop" aria-label="Stop the answer" title="Stop" onClick={onStop}>
          <StopIcon />
        </button>
      ) : (
        <button
          type="submit"
          className="icon-button send"
          aria-label="Send message"
          title="Send (Enter)"
          disabled={!text.trim() || busy || sending}
        >
          <SendIcon />
        </button>
      )}
      <span id={`${id}-hint`} className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </span>
    </form>
  )
}
