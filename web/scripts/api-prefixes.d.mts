export function apiPrefixes(): string[]
export function isAPIPath(path: string, prefixes?: string[]): boolean
