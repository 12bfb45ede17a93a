import { describe, expect, it } from 'vitest'
import { SSEParser, type SSEMessage } from './sse'

function parse(chunks: (string | Uint8Array)[], lastEventId = '') {
  const out: SSEMessage[] = []
  const p = new SSEParser((m) => out.push(m), lastEventId)
  for (const c of chunks) {
    if (typeof c === 'string') p.feed(c)
    else p.feedBytes(c)
  }
  return { out, parser: p }
}

describe('SSEParser', () => {
  it('dispatches an event per blank line, with its id and the default type', () => {
    const { out, parser } = parse(['id: 1\ndata: {"a":1}\n\nid: 2\ndata: {"a":2}\n\n'])
    expect(out).toEqual([
      { event: 'message', data: '{"a":1}', lastEventId: '1' },
      { event: 'message', data: '{"a":2}', lastEventId: '2' },
    ])
    expect(parser.lastEventId).toBe('2')
  })

  it('joins data lines with newlines and reads named events', () => {
    const { out } = parse(['event: ping\ndata: first\ndata:second\n\n'])
    expect(out).toEqual([{ event: 'ping', data: 'first\nsecond', lastEventId: '' }])
  })

  it('handles chunks split anywhere, including inside CRLF', () => {
    const text = 'id: 7\r\ndata: hello\r\n\r\nid: 8\rdata: world\r\r'
    for (let cut = 1; cut < text.length; cut++) {
      const { out } = parse([text.slice(0, cut), text.slice(cut)])
      expect(out.map((m) => [m.lastEventId, m.data]), `cut at ${cut}`).toEqual([
        ['7', 'hello'],
        ['8', 'world'],
      ])
    }
  })

  it('decodes UTF-8 split across byte chunks', () => {
    const bytes = new TextEncoder().encode('data: café – ✓\n\n')
    const { out } = parse([bytes.slice(0, 9), bytes.slice(9, 15), bytes.slice(15)])
    expect(out[0].data).toBe('café – ✓')
  })

  it('ignores comments, unknown fields and a leading BOM', () => {
    const { out } = parse(['\uFEFF: keep-alive\nfoo: bar\ndata: x\n\n'])
    expect(out).toEqual([{ event: 'message', data: 'x', lastEventId: '' }])
  })

  it('does not dispatch an event without data, but remembers its id', () => {
    const { out, parser } = parse(['id: 5\n\n'])
    expect(out).toEqual([])
    expect(parser.lastEventId).toBe('5')
  })

  it('does not dispatch an unterminated event', () => {
    const { out } = parse(['id: 3\ndata: half'])
    expect(out).toEqual([])
  })

  it('reads retry only when it is a number, and keeps the value after one space', () => {
    const { parser, out } = parse(['retry: 2500\nretry: soon\ndata:  two spaces\n\n'])
    expect(parser.retry).toBe(2500)
    expect(out[0].data).toBe(' two spaces')
  })

  it('starts from a known last event id and drops a partial event on reset', () => {
    const { parser, out } = parse(['data: partial'], '41')
    parser.reset()
    parser.feed('id: 42\ndata: whole\n\n')
    expect(out).toEqual([{ event: 'message', data: 'whole', lastEventId: '42' }])
  })

  it('ignores ids containing NUL', () => {
    const { out } = parse(['id: 1\n\nid: a\u0000b\ndata: x\n\n'])
    expect(out[0].lastEventId).toBe('1')
  })
})
