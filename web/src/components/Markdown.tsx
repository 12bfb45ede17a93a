// Assistant text as Markdown. react-markdown never renders raw HTML; rehype-sanitize is a
// second guard (GitHub's allow-list) in case a plugin ever lets some through.
import { Children, type ReactNode } from 'react'
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
          // A table cell breaks lines only between words: a name such as node-pool-b-1 stays whole.
          td: ({ node: _node, children, ...props }) => <td {...props}>{keepWhole(children)}</td>,
          th: ({ node: _node, children, ...props }) => <th {...props}>{keepWhole(children)}</th>,
          // A wide table scrolls sideways inside its own frame; its words never break.
          table: ({ node: _node, ...props }) => (
            <div className="table-scroll" role="region" aria-label="Table" tabIndex={0}>
              <table {...props} />
            </div>
          ),
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  )
}

/**
 * keepWhole wraps the words of a cell's text that hold a hyphen or slash (where browsers may
 * break a line) so that they stay on one line; other words and elements pass through.
 */
function keepWhole(children: ReactNode): ReactNode {
  return Children.map(children, (child) => {
    if (typeof child !== 'string' || !/[-/‐-—]/.test(child)) return child
    return child.split(/(\s+)/).map((part, i) =>
      /[-/‐-—]/.test(part) ? (
        <span key={i} className="nowrap">
          {part}
        </span>
      ) : (
        part
      ),
    )
  })
}
