// Generates the typed API client's types (src/api/schema.d.ts) from the committed OpenAPI
// document of the gateway, or with --check verifies that the committed file is what the
// document generates (and fails, naming the fix, when it is not).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const spec = resolve(web, '../openapi/gateway.json')
const target = resolve(web, 'src/api/schema.d.ts')
const bin = resolve(web, 'node_modules/.bin/openapi-typescript')

function generate(out) {
  // Properties with a default stay optional in requests: the server fills them in.
  execFileSync(bin, [spec, '--default-non-nullable', 'false', '-o', out], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] })
}

if (process.argv.includes('--check')) {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-api-'))
  try {
    const fresh = join(dir, 'schema.d.ts')
    generate(fresh)
    let committed = ''
    try {
      committed = readFileSync(target, 'utf8')
    } catch {
      // Missing counts as stale.
    }
    if (readFileSync(fresh, 'utf8') !== committed) {
      console.error('web/src/api/schema.d.ts is stale: it differs from what openapi/gateway.json generates.')
      console.error('Run `npm run gen:api` in web/ (after `make openapi` if the Go API changed) and commit the result.')
      process.exit(1)
    }
    console.log('web/src/api/schema.d.ts matches openapi/gateway.json')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
} else {
  generate(target)
  console.log('generated web/src/api/schema.d.ts from openapi/gateway.json')
}
