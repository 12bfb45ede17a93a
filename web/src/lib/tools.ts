// The tools this user may call, fetched once per screen: the chat's suggestions, and the
// approval cards' descriptions and argument defaults.
import { useEffect, useState } from 'react'
import { must, type Api } from '../api/client'
import type { ToolInfo } from '../api/types'

/** useTools returns the user's tools (null while loading; empty when they could not be read). */
export function useTools(api: Api): ToolInfo[] | null {
  const [tools, setTools] = useState<ToolInfo[] | null>(null)
  useEffect(() => {
    let live = true
    must(api.GET('/tools'))
      .then((r) => live && setTools(r.tools ?? []))
      .catch(() => live && setTools([]))
    return () => {
      live = false
    }
  }, [api])
  return tools
}

/** toolsByName indexes tools by their namespaced name. */
export function toolsByName(tools: ToolInfo[] | null): Map<string, ToolInfo> {
  return new Map((tools ?? []).map((t) => [t.name, t]))
}
