// A small parser for the text/event-stream format (WHATWG HTML, "Server-sent events").
//
// The gateway requires `Authorization: Bearer …` on the event stream, which EventSource cannot
// send, so the UI reads the stream with fetch and parses it here. The parser is incremental:
// feed it chunks as they arrive, split anywhere (even inside a CRLF pair or a UTF-8 sequence
// when fed bytes), and it calls onMessage once per complete event.

/** One dispatched server-sent event. */
export interface SSEMessage {
  /** The event type: the `event:` field, or "message" when absent. */
  event: string
  /** The data lines joined with "\n". */
  data: string
  /** The last event ID seen so far in the stream (the `id:` field of this or an earlier event). */
  lastEventId: string
}

/** SSEParser turns a text/event-stream into messages. */
export class SSEParser {
  private buffer = ''
  private data: string[] = []
  private hasData = false
  private eventType = ''
  private idBuffer = ''
  private pendingCR = false
  private started = false
  private readonly decoder = new TextDecoder('utf-8')

  /** The last event ID of the stream, updated as events are dispatched. */
  lastEventId: string
  /** The reconnection delay the server asked for with a `retry:` field, if any. */
  retry: number | undefined

  constructor(
    private readonly onMessage: (m: SSEMessage) => void,
    lastEventId = '',
  ) {
    this.lastEventId = lastEventId
    this.idBuffer = lastEventId
  }

  /** feedBytes decodes a chunk of the response body (UTF-8) and parses it. */
  feedBytes(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }))
  }

  /** feed parses a chunk of text. */
  feed(chunk: string): void {
    if (!this.started && chunk.length > 0) {
      this.started = true
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
    }
    let text = chunk
    if (this.pendingCR) {
      // The previous chunk ended with CR; a LF at the start of this one belongs to it.
      this.pendingCR = false
      if (text.startsWith('\n')) text = text.slice(1)
    }
    this.buffer += text
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i]
      if (c !== '\n' && c !== '\r') continue
      this.line(this.buffer.slice(start, i))
      if (c === '\r') {
        if (i + 1 === this.buffer.length) {
          this.pendingCR = true
        } else if (this.buffer[i + 1] === '\n') {
          i++
        }
      }
      start = i + 1
    }
    this.buffer = this.buffer.slice(start)
  }

  /**
   * reset forgets a partly received event, as when a connection drops: per the specification an
   * event that was not terminated by a blank line is never dispatched. lastEventId is kept.
   */
  reset(): void {
    this.buffer = ''
    this.data = []
    this.hasData = false
    this.eventType = ''
    this.idBuffer = this.lastEventId
    this.pendingCR = false
    this.started = false
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch()
      return
    }
    if (line.startsWith(':')) return // a comment, often used as a keep-alive
    const colon = line.indexOf(':')
    let field = line
    let value = ''
    if (colon >= 0) {
      field = line.slice(0, colon)
      value = line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
    }
    switch (field) {
      case 'event':
        this.eventType = value
        break
      case 'data':
        this.data.push(value)
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\u0000')) this.idBuffer = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value)
        break
      default:
      // Unknown fields are ignored.
    }
  }

  private dispatch(): void {
    this.lastEventId = this.idBuffer
    if (!this.hasData) {
      this.eventType = ''
      return
    }
    const msg: SSEMessage = {
      event: this.eventType || 'message',
      data: this.data.join('\n'),
      lastEventId: this.lastEventId,
    }
    this.data = []
    this.hasData = false
    this.eventType = ''
    this.onMessage(msg)
  }
}
