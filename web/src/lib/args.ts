// The arguments of a call as a person deciding on it needs them: every argument given, and
// every one the tool will use by default because it was left out (a scaling without a namespace
// scales production), with what the tool does.

import type { ToolInfo } from '../api/types'
import { isPlainObject } from './result'

/** One argument of a call. */
export interface CallArgument {
  name: string
  value: unknown
  /** The value is the tool's default: the call did not give it. */
  isDefault: boolean
  /** What the argument means, from the tool's schema. */
  description?: string
}

/** callArguments lists the given arguments, then the defaults of the schema's properties the call left out. */
export function callArguments(args: Record<string, unknown>, schema?: Record<string, unknown>): CallArgument[] {
  const props = isPlainObject(schema?.properties) ? (schema.properties as Record<string, unknown>) : {}
  const describe = (name: string) => {
    const p = props[name]
    return isPlainObject(p) && typeof p.description === 'string' ? p.description : undefined
  }
  const out: CallArgument[] = Object.entries(args).map(([name, value]) => ({ name, value, isDefault: false, description: describe(name) }))
  for (const [name, p] of Object.entries(props)) {
    if (name in args || !isPlainObject(p) || !('default' in p)) continue
    out.push({ name, value: p.default, isDefault: true, description: describe(name) })
  }
  return out
}

/** toolEffect says what a tool does, from the first sentence of its description. */
export function toolEffect(tool?: Pick<ToolInfo, 'description' | 'title'>): string {
  const text = (tool?.description ?? '').replace(/\s+/g, ' ').trim()
  if (!text) return ''
  const m = /^(.+?[.!?])(\s|$)/.exec(text)
  return m ? m[1] : text
}
