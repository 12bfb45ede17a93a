// A tool's structured result: arrays of objects as tables, objects as key/value rows.
import { useState } from 'react'
import { formatScalar, humanize, isPlainObject, REDACTED, shapeOf } from '../lib/result'

const MAX_ROWS = 50
const MAX_DEPTH = 3

export function ResultView({ value, depth = 0, label = 'Result' }: { value: unknown; depth?: number; label?: string }) {
  if (depth > MAX_DEPTH) return <code className="json">{JSON.stringify(value)}</code>
  const shape = shapeOf(value)
  switch (shape.kind) {
    case 'empty':
      return <span className="muted">{Array.isArray(value) ? 'No items' : 'Nothing'}</span>
    case 'scalar':
      return <Scalar value={shape.value} />
    case 'list':
      return (
        <ul className="result-list">
          {shape.items.map((v, i) => (
            <li key={i}>
              <ResultView value={v} depth={depth + 1} />
            </li>
          ))}
        </ul>
      )
    case 'kv':
      return (
        <table className="kv">
          <tbody>
            {shape.entries.map(([k, v]) => (
              <tr key={k}>
                <th scope="row" title={k}>
                  {humanize(k)}
                </th>
                <td>
                  <ResultView value={v} depth={depth + 1} label={humanize(k)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )
    case 'table':
      return <Table columns={shape.columns} rows={shape.rows} depth={depth} label={label} />
  }
}

function Table({
  columns,
  rows,
  depth,
  label,
}: {
  columns: string[]
  rows: Record<string, unknown>[]
  depth: number
  label: string
}) {
  const [all, setAll] = useState(false)
  const shown = all ? rows : rows.slice(0, MAX_ROWS)
  return (
    <div className="table-wrap" role="region" aria-label={`${label}: ${rows.length} ${rows.length === 1 ? 'row' : 'rows'}`} tabIndex={0}>
      <table className="grid">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col" title={c}>
                {humanize(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c}>
                  <Cell value={r[c]} depth={depth + 1} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > MAX_ROWS && !all && (
        <button type="button" className="link-button" onClick={() => setAll(true)}>
          Show all {rows.length} rows
        </button>
      )}
    </div>
  )
}

function Cell({ value, depth }: { value: unknown; depth: number }) {
  if (Array.isArray(value) && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
    return <>{value.map(formatScalar).join(', ')}</>
  }
  if (isPlainObject(value) || Array.isArray(value)) return <ResultView value={value} depth={depth} />
  return <Scalar value={value} />
}

function Scalar({ value }: { value: unknown }) {
  if (value === REDACTED) {
    return (
      <span className="redacted" title="Hidden: this value is sensitive">
        redacted
      </span>
    )
  }
  if (value === null || value === undefined) return <span className="muted">—</span>
  return <>{formatScalar(value)}</>
}
