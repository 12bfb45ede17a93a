// The MCP content blocks of a tool result (a tool of a domain of kind mcp), shown as the
// upstream server sent them: text as text, images and audio inline, resource links as links,
// embedded resources with their text. Only http(s) links are clickable, and only image and
// audio media types are rendered as media, so a block cannot smuggle in a script.

import type { ContentBlock } from '../chat/state'

function safeHref(uri: string | undefined): string | undefined {
  if (!uri) return undefined
  try {
    const u = new URL(uri)
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined
  } catch {
    return undefined
  }
}

function media(prefix: 'image/' | 'audio/', b: ContentBlock): string | undefined {
  const mime = b.mimeType ?? ''
  if (!mime.startsWith(prefix) || !b.data || !/^[A-Za-z0-9+/=\s]*$/.test(b.data)) return undefined
  return `data:${mime};base64,${b.data}`
}

function Block({ b, tool }: { b: ContentBlock; tool: string }) {
  switch (b.type) {
    case 'text':
      return <p className="content-text">{b.text}</p>
    case 'image': {
      const src = media('image/', b)
      return src ? <img className="content-image" src={src} alt={`Image from ${tool} (${b.mimeType})`} /> : <p className="tool-note">An image ({b.mimeType}) that cannot be shown.</p>
    }
    case 'audio': {
      const src = media('audio/', b)
      return src ? <audio className="content-audio" controls src={src} aria-label={`Audio from ${tool} (${b.mimeType})`} /> : <p className="tool-note">Audio ({b.mimeType}) that cannot be played.</p>
    }
    case 'resource_link': {
      const href = safeHref(b.uri)
      const label = b.title || b.name || b.uri
      return (
        <p className="content-link">
          {href ? (
            <a href={href} target="_blank" rel="noopener noreferrer">
              {label}
            </a>
          ) : (
            <code>{b.uri}</code>
          )}
          {b.description && <> — {b.description}</>}
        </p>
      )
    }
    case 'resource': {
      const r = b.resource ?? {}
      return (
        <figure className="content-resource">
          <figcaption>
            <code>{r.uri}</code> {r.mimeType && <span className="tool-note">({r.mimeType})</span>}
          </figcaption>
          {r.text !== undefined ? <pre>{r.text}</pre> : <p className="tool-note">Binary content, {Math.floor(((r.blob ?? '').length * 3) / 4)} bytes.</p>}
        </figure>
      )
    }
    default:
      return <pre className="content-other">{JSON.stringify(b)}</pre>
  }
}

export function ContentView({ blocks, tool }: { blocks: ContentBlock[]; tool: string }) {
  return (
    <div className="tool-content" aria-label={`Content returned by ${tool}`}>
      {blocks.map((b, i) => (
        <Block key={i} b={b} tool={tool} />
      ))}
    </div>
  )
}
