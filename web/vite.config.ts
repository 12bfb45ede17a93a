import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vitest/config'
import { apiPrefixes } from './scripts/api-prefixes.mjs'

// The gateway API the dev server proxies to (`mcp-platform dev` listens on :8000).
const api = process.env.MCP_API_URL ?? 'http://127.0.0.1:8000'

// keepDist puts back dist/.gitkeep after Vite empties dist/, so the Go embed pattern
// (web/embed.go: //go:embed all:dist) always matches a tracked file and git stays clean.
function keepDist(): Plugin {
  return {
    name: 'mcp-keep-dist',
    apply: 'build',
    closeBundle() {
      writeFileSync(resolve(import.meta.dirname, 'dist/.gitkeep'), '')
    },
  }
}

export default defineConfig({
  plugins: [keepDist()],
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    // API paths go to the gateway (read from openapi/gateway.json); the rest is the app.
    proxy: Object.fromEntries(
      [...apiPrefixes().map((p) => `^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`), '^/openapi[^/]*$'].map((re) => [
        re,
        { target: api, changeOrigin: false },
      ]),
    ),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // A loaded CI machine can take seconds to render a first component; nothing here is timed.
    testTimeout: 20000,
  },
})
