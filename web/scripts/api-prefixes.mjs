// The gateway API's top-level paths (/conversations, /approvals, ...), read from the committed
// OpenAPI document, plus Huma's documentation routes. The dev server and the e2e proxy send
// these to the gateway; every other path is the app. api/webui derives the same list in Go.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const spec = resolve(dirname(fileURLToPath(import.meta.url)), '../../openapi/gateway.json')

/** apiPrefixes returns paths such as "/conversations", longest-lived first segment only. */
export function apiPrefixes() {
  const doc = JSON.parse(readFileSync(spec, 'utf8'))
  const segments = new Set(['docs', 'schemas', 'openapi.json', 'openapi.yaml'])
  for (const p of Object.keys(doc.paths ?? {})) {
    const seg = p.replace(/^\//, '').split('/')[0]
    if (seg && !seg.startsWith('{')) segments.add(seg)
  }
  return [...segments].map((s) => `/${s}`)
}

/** isAPIPath says whether a request path belongs to the gateway API. */
export function isAPIPath(path, prefixes = apiPrefixes()) {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`)) || /^\/openapi[^/]*$/.test(path)
}
