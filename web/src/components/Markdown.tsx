// Assistant text as Markdown. react-markdown never renders raw HTML; rehype-sanitize is a
// second guard (GitHub's allow-list) in case a plugin ever lets some through.
import ReactMarkdown from 'react-markdown'
import rehypeSanitize from 'rehype-sanitize'
import remarkGfm from 'remark-gfm'

export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  return (
    <div className={streaming ? 'markdown streaming' : 'markdown'}>
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[rehypeSanitize]}
        components={{
          a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  )
}
