#!/usr/bin/env node
// End-to-end test of the web UI in a real browser (Debian's Chromium, driven by playwright-core)
// against a real `mcp-platform dev` stack (embedded Temporal, private PostgreSQL, mock LLM), which
// also onboards the MCP reference server of test/upstreams (installed with npm ci when missing)
// as a domain of kind mcp, by YAML only.
//
//   npm run e2e              build the UI and the binary, start the stack, run the scenario
//   E2E_SKIP_BUILD=1         reuse web/dist and bin/mcp-platform as they are
//   E2E_BASE_URL=http://...  run against a stack that is already running (nothing is started)
//   E2E_UI=gateway|proxy     where the browser loads the UI (default: the gateway when it serves
//                            the UI, else a local server that serves web/dist and proxies the API)
//   CHROMIUM=/path           the browser (default /usr/bin/chromium)
//
// Screenshots of every step go to web/e2e/screenshots/. The process exits non-zero when a step
// fails; every step runs and is reported either way.

import { spawn, execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { apiPrefixes, isAPIPath } from '../scripts/api-prefixes.mjs'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repo = resolve(web, '..')
const shots = join(web, 'e2e', 'screenshots')
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const WAIT = Number(process.env.E2E_TIMEOUT_MS ?? 45_000)

const log = (...a) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}]`, ...a)

// ---- the stack ---------------------------------------------------------------------------------

// The MCP reference server (npm, pinned by test/upstreams/package-lock.json), which the stack
// onboards as the domain "everything" of kind mcp, over stdio, by YAML only.
const upstreams = join(repo, 'test', 'upstreams')
const everything = join(upstreams, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js')
const mcpSDK = join(upstreams, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', 'client')

function installUpstreams() {
  if (existsSync(everything)) return
  log('installing the test MCP servers (npm ci in test/upstreams)')
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: upstreams, stdio: 'inherit' })
}

/**
 * domainsDir writes the stack's domain configuration into dir: the repository's domains, and
 * server-everything as the domain "everything" whose tools the operator role may call.
 */
function domainsDir(dir) {
  const config = join(repo, 'config', 'domains')
  mkdirSync(dir)
  for (const f of readdirSync(config).filter((f) => f.endsWith('.yaml'))) copyFileSync(join(config, f), join(dir, f))
  writeFileSync(
    join(dir, 'everything.yaml'),
    [
      'name: everything',
      'description: The MCP reference server, onboarded by configuration only.',
      'kind: mcp',
      'mcp:',
      `  command: ${JSON.stringify(process.execPath)}`,
      `  args: [${JSON.stringify(everything)}, stdio]`,
      'permissions:',
      '  - role: operator',
      '    tools: ["everything.*"]',
      '',
    ].join('\n'),
  )
  return dir
}

/** callUpstream calls a tool of server-everything directly (not through the platform). */
async function callUpstream(name, args = {}) {
  const { Client } = await import(pathToFileURL(join(mcpSDK, 'index.js')).href)
  const { StdioClientTransport } = await import(pathToFileURL(join(mcpSDK, 'stdio.js')).href)
  const client = new Client({ name: 'e2e-direct', version: '1' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [everything, 'stdio'], stderr: 'ignore' }))
  try {
    return await client.callTool({ name, arguments: args })
  } finally {
    await client.close()
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer()
    s.unref()
    s.on('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })
}

function build() {
  if (process.env.E2E_SKIP_BUILD) return
  log('building the UI (npm run build)')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: web, stdio: 'inherit' })
  log('building bin/mcp-platform (embeds web/dist)')
  execFileSync('go', ['build', '-o', 'bin/mcp-platform', './cmd/mcp-platform'], {
    cwd: repo,
    stdio: 'inherit',
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  })
}

async function startStack() {
  const [api, mcp, temporal, temporalUI] = [await freePort(), await freePort(), await freePort(), await freePort()]
  // PostgreSQL runs as the unprivileged postgres user when we are root: it must reach the folder.
  const parent = mkdtempSync(join(tmpdir(), 'mcp-e2e-'))
  const dataDir = join(parent, 'data')
  mkdirSync(dataDir)
  chmodSync(parent, 0o755)
  chmodSync(dataDir, 0o755)
  const logFile = join(parent, 'dev.log')
  log(`starting mcp-platform dev (api :${api}, data ${dataDir}, log ${logFile})`)
  const out = openSync(logFile, 'a')
  const child = spawn(join(repo, 'bin', 'mcp-platform'), ['dev'], {
    cwd: repo,
    env: {
      ...process.env,
      MCP_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(api),
      MCP_SERVER_PORT: String(mcp),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
      TEMPORAL_UI_PORT: String(temporalUI),
      LLM_PROVIDER: 'mock',
      MCP_ENVIRONMENT: 'dev',
      MCP_DOMAINS_DIR: domainsDir(join(parent, 'domains')),
    },
    stdio: ['ignore', out, out],
  })
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })))
  const base = `http://127.0.0.1:${api}`
  const deadline = Date.now() + 240_000
  for (;;) {
    const state = await Promise.race([exited.then(() => 'exited'), sleep(1000).then(() => 'waiting')])
    if (state === 'exited') throw new Error(`mcp-platform dev exited while starting; see ${logFile}:\n${tail(logFile)}`)
    try {
      const r = await fetch(`${base}/health`)
      if (r.ok) break
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the stack was not healthy after 4 minutes; see ${logFile}:\n${tail(logFile)}`)
  }
  log('stack healthy')
  return {
    base,
    temporalUI: `http://127.0.0.1:${temporalUI}`,
    logFile,
    async stop() {
      if (child.exitCode === null) {
        log('stopping the stack (SIGINT)')
        child.kill('SIGINT')
        const done = await Promise.race([exited, sleep(60_000).then(() => null)])
        if (!done) {
          log('the stack did not stop within 60 s; killing it')
          child.kill('SIGKILL')
          await exited
        }
      }
      if (!process.env.E2E_KEEP_DATA) rmSync(parent, { recursive: true, force: true })
    },
  }
}

function tail(file, n = 25) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n')
  } catch {
    return ''
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- where the browser loads the UI ------------------------------------------------------------

async function gatewayServesUI(base) {
  try {
    const r = await fetch(`${base}/`, { headers: { Accept: 'text/html' } })
    return r.ok && (await r.text()).includes('<div id="root">')
  } catch {
    return false
  }
}

/**
 * startProxy stands between the browser and the gateway. With dist set it serves web/dist itself
 * and forwards only API paths (what the gateway does once it serves the UI); otherwise it
 * forwards everything. It records the event-stream requests and can cut the open streams, to
 * test that the UI reconnects and resumes.
 */
async function startProxy(gateway, { dist = false } = {}) {
  const root = join(web, 'dist')
  if (dist && !existsSync(join(root, 'index.html'))) throw new Error('web/dist/index.html is missing: run npm run build')
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }
  const target = new URL(gateway)
  const prefixes = apiPrefixes()
  const streams = new Set()
  const eventRequests = []
  // The highest event ID written to the browser, by conversation.
  const forwarded = new Map()
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    const isAPI = isAPIPath(path, prefixes)
    if (!dist || isAPI) {
      const conversation = /^\/conversations\/([^/]+)\/events$/.exec(path)?.[1]
      const isStream = conversation !== undefined
      if (isStream) eventRequests.push({ lastEventId: req.headers['last-event-id'] ?? '' })
      const up = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          if (!isStream) return void r.pipe(res)
          // A stream's chunks are written one by one, so the proxy knows the last event ID it
          // has handed to the browser's connection.
          r.on('data', (chunk) => {
            const ids = [...chunk.toString('utf8').matchAll(/^id: ?(\d+)$/gm)]
            res.write(chunk, () => {
              if (ids.length > 0) forwarded.set(conversation, Math.max(forwarded.get(conversation) ?? 0, Number(ids[ids.length - 1][1])))
            })
          })
          r.on('end', () => res.end())
        },
      )
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502)
        res.end()
      })
      req.pipe(up)
      if (isStream) {
        streams.add(res)
        res.on('close', () => streams.delete(res))
      }
      res.on('close', () => up.destroy())
      return
    }
    let file = join(root, path)
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html')
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  const port = await freePort()
  await new Promise((r) => server.listen(port, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${port}`,
    eventRequests,
    /** forwardedEventId is the highest event ID of a conversation the proxy has written to the browser. */
    forwardedEventId: (conversation) => forwarded.get(conversation) ?? 0,
    /** dropStreams cuts every open event stream, as a network failure would. */
    dropStreams() {
      const n = streams.size
      for (const res of streams) res.socket?.destroy()
      return n
    },
    close: () => {
      for (const res of streams) res.socket?.destroy()
      server.closeAllConnections?.()
      return new Promise((r) => server.close(r))
    },
  }
}

// ---- the scenario ------------------------------------------------------------------------------

const results = []

async function step(name, shot, page, fn) {
  const started = Date.now()
  let error
  try {
    await fn()
  } catch (e) {
    error = e
  }
  let file = ''
  if (page && shot) {
    file = join(shots, shot)
    try {
      await page.screenshot({ path: file, fullPage: false })
    } catch {
      file = ''
    }
  }
  const ok = !error
  results.push({ name, ok, ms: Date.now() - started, error: error ? String(error.message ?? error).split('\n')[0] : '', file })
  log(`${ok ? 'PASS' : 'FAIL'} ${name}${error ? ` — ${String(error.message ?? error).split('\n')[0]}` : ''}`)
  return ok
}

function check(cond, message) {
  if (!cond) throw new Error(message)
}

async function newUser(browser, ui, consoleErrors, viewport = { width: 1366, height: 860 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 })
  const page = await context.newPage()
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`console: ${m.text()}`)
  })
  await page.goto(ui)
  return { context, page }
}

async function signIn(page, name) {
  await page.getByRole('button', { name: new RegExp(`^Sign in as ${name}`) }).click({ timeout: WAIT })
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: WAIT })
}

async function ask(page, text) {
  const box = page.getByLabel('Message', { exact: true })
  await box.waitFor({ timeout: WAIT })
  await box.fill(text)
  await box.press('Enter')
  // The new conversation's URL replaces the blank chat.
  await page.waitForURL(/\/c\/[0-9a-f-]{36}$/, { timeout: WAIT })
}

/** toolOffered waits until user may call tool: its domain's worker has registered it. */
async function toolOffered(gateway, user, tool) {
  const token = await (await fetch(`${gateway}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }) })).json()
  const deadline = Date.now() + WAIT
  for (;;) {
    const r = await fetch(`${gateway}/tools`, { headers: { Authorization: `Bearer ${token.access_token}` } })
    const names = r.ok ? ((await r.json()).tools ?? []).filter((t) => t.available).map((t) => t.name) : []
    if (names.includes(tool)) return
    check(Date.now() < deadline, `${tool} is not offered to ${user} (${r.status}: ${names.join(', ')}); the stack onboards it from the domains folder domainsDir writes`)
    await sleep(250)
  }
}

/** turnDone waits until the last turn has finished (no typing indicator, a run link shown). */
async function turnDone(page) {
  await page.waitForFunction(
    () => {
      const turns = document.querySelectorAll('.turn')
      const last = turns[turns.length - 1]
      return !!last && /turn-(completed|failed|cancelled)/.test(last.className)
    },
    null,
    { timeout: WAIT },
  )
}

/** askMore sends a further message in the open conversation and waits for its turn to finish. */
async function askMore(page, text) {
  const before = await page.locator('.turn').count()
  const box = page.getByLabel('Message', { exact: true })
  await box.waitFor({ timeout: WAIT })
  // The composer takes a message once the previous answer is done (Stop turns back into Send).
  await page.getByRole('button', { name: 'Stop the answer' }).waitFor({ state: 'detached', timeout: WAIT })
  await box.fill(text)
  await box.press('Enter')
  await page.waitForFunction((n) => document.querySelectorAll('.turn').length > n, before, { timeout: WAIT })
  await turnDone(page)
}

/** newestInView says how far the end of the last turn is below the chat's view (<= 0: in view). */
async function newestInView(page) {
  // Let the follow logic and layout settle before measuring.
  await sleep(400)
  return page.evaluate(() => {
    const scroller = document.querySelector('.chat-scroll')
    const turns = document.querySelectorAll('.turn')
    const last = turns[turns.length - 1]
    const answer = [...last.querySelectorAll('.markdown')].pop() ?? last
    return {
      below: Math.round(answer.getBoundingClientRect().bottom - scroller.getBoundingClientRect().bottom),
      fromBottom: Math.round(scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight),
    }
  })
}

/**
 * tableProblems measures every table of the chat from the DOM: a word split across lines in a
 * cell (a word's text range with more than one line box), a table sticking out of its card or
 * answer instead of scrolling inside its frame, and result cells without padding.
 */
async function tableProblems(page) {
  return page.evaluate(() => {
    const problems = []
    const tables = [...document.querySelectorAll('.chat .markdown table, .chat .tool-card table.grid')]
    if (tables.length === 0) problems.push('no table to measure')
    for (const table of tables) {
      const frame = table.closest('.table-scroll, .table-wrap')
      const box = table.closest('.tool-card') ?? table.closest('.assistant')
      if (!frame) problems.push(`a table outside a scroll frame: ${table.innerText.slice(0, 40)}`)
      else if (frame.getBoundingClientRect().right > box.getBoundingClientRect().right + 1) {
        problems.push(`a table frame sticks out of its ${box.className} by ${Math.round(frame.getBoundingClientRect().right - box.getBoundingClientRect().right)}px`)
      }
      for (const cell of table.querySelectorAll('th, td')) {
        // The table's own cells; a value shown as a table of its own is measured as that table.
        if (cell.closest('table') !== table || cell.querySelector('table')) continue
        if (table.classList.contains('grid') && parseFloat(getComputedStyle(cell).paddingLeft) < 4) {
          problems.push(`a result cell without padding: ${cell.innerText.slice(0, 30)}`)
        }
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT)
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const re = /\S+/g
          for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
            const r = document.createRange()
            r.setStart(n, m.index)
            r.setEnd(n, m.index + m[0].length)
            const lines = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)))
            if (lines.size > 1) problems.push(`"${m[0]}" is split across ${lines.size} lines`)
          }
        }
      }
    }
    return problems
  })
}

async function scenario(ui, proxy, gateway) {
  mkdirSync(shots, { recursive: true })
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const consoleErrors = []
  try {
    // Alice, HR manager: a read-only lookup, answered with a tool card and a streamed answer.
    const alice = await newUser(browser, ui, consoleErrors)
    await step('sign-in page lists the demo users', '01-sign-in.png', alice.page, async () => {
      await alice.page.getByRole('heading', { name: 'Sign in as a demo user' }).waitFor({ timeout: WAIT })
      const cards = await alice.page.getByRole('button', { name: /^Sign in as / }).count()
      check(cards >= 4, `expected the demo users, found ${cards} cards`)
    })
    await step('alice: "Get employee E001" streams an answer with Sarah Johnson and an hr.get_employee card', '02-alice-employee.png', alice.page, async () => {
      await signIn(alice.page, 'Alice Martin')
      await ask(alice.page, 'Get employee E001')
      await alice.page.getByRole('article', { name: 'Tool call hr.get_employee: OK' }).waitFor({ timeout: WAIT })
      await alice.page.locator('.markdown', { hasText: 'Sarah Johnson' }).first().waitFor({ timeout: WAIT })
      await turnDone(alice.page)
      const card = alice.page.getByRole('article', { name: 'Tool call hr.get_employee: OK' })
      check((await card.locator('.domain-chip').innerText()).toLowerCase() === 'hr', 'the tool card names the hr domain')
      check(await card.getByRole('cell', { name: 'Sarah Johnson' }).count() + (await card.getByText('Sarah Johnson').count()) > 0, 'the result shows the employee')
      const href = await alice.page.getByRole('link', { name: /View run in Temporal/ }).first().getAttribute('href')
      check(/\/workflows\/chat-[0-9a-f-]+-1$/.test(href ?? ''), `the turn links to its Temporal run (href ${href})`)
      check(
        (await alice.page.locator('a.conv-link[aria-current="page"]', { hasText: 'Get employee E001' }).count()) === 1,
        'the conversation is listed, and selected, in the sidebar',
      )
    })

    /** salaryShown reads the salary on alice's card and in the answer below it. */
    const salaryShown = async (page) => {
      const card = page.getByRole('article', { name: 'Tool call hr.get_employee: OK' })
      const cell = (await card.getByRole('row', { name: /^Salary/ }).locator('td').first().innerText()).trim()
      const answer = await page.locator('.turn .markdown').last().innerText()
      return { cell, answer }
    }
    await step('alice (HR manager, may read salaries): the tool card shows the salary the answer prints', '02b-alice-salary.png', alice.page, async () => {
      const { cell, answer } = await salaryShown(alice.page)
      check(!/redacted/i.test(cell) && /^\d[\d,.]*$/.test(cell), `the card shows the salary, not "${cell}"`)
      const digits = cell.replace(/\D/g, '')
      check(answer.replace(/\D/g, '').includes(digits), `the answer prints the same salary as the card (${cell}): ${answer.slice(0, 200)}`)
    })

    await step('alice: reloading the conversation page rebuilds it from the history', '', alice.page, async () => {
      await alice.page.reload()
      await alice.page.getByRole('article', { name: 'Tool call hr.get_employee: OK' }).waitFor({ timeout: WAIT })
      await alice.page.locator('.markdown', { hasText: 'Sarah Johnson' }).first().waitFor({ timeout: WAIT })
      check((await alice.page.getByRole('article', { name: /Tool call/ }).count()) === 1, 'one tool card after the history and the replayed stream merge')
      const { cell } = await salaryShown(alice.page)
      check(!/redacted/i.test(cell), `the stored history agrees with the answer: the card shows the salary, not "${cell}"`)
    })

    // Three long answers in a row: the view follows each one down.
    await step('alice: three long answers in a row each scroll into view', '02c-alice-follow.png', alice.page, async () => {
      const page = alice.page
      await page.getByRole('button', { name: /New chat/ }).click()
      await ask(page, 'who works in Engineering?')
      await turnDone(page)
      let seen = await newestInView(page)
      check(seen.below <= 1 && seen.fromBottom <= 48, `answer 1 is in view (${JSON.stringify(seen)})`)
      for (const [i, text] of ['list all employees in sales', 'who works in Engineering?'].entries()) {
        await askMore(page, text)
        seen = await newestInView(page)
        check(seen.below <= 1 && seen.fromBottom <= 48, `answer ${i + 2} is in view (${JSON.stringify(seen)})`)
      }
      const height = await page.evaluate(() => document.querySelector('.chat-scroll').scrollHeight)
      check(height > 2 * 860, `the answers are long (${height}px of content)`)
      // Scrolled up to read, the reader keeps their place and is offered the new messages (a turn
      // of the same conversation, sent from elsewhere: another tab, or the API).
      await page.evaluate(() => document.querySelector('.chat-scroll').scrollBy(0, -1500))
      await sleep(300)
      const token = await (await fetch(`${gateway}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"alice"}' })).json()
      const convId = /\/c\/([0-9a-f-]{36})$/.exec(page.url())?.[1]
      const sent = await fetch(`${gateway}/chat`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.access_token}` },
        body: JSON.stringify({ message: 'list departments', conversation_id: convId }),
      })
      check(sent.ok, `the turn from elsewhere was accepted (${sent.status})`)
      await page.waitForFunction(() => document.querySelectorAll('.turn').length === 4, null, { timeout: WAIT })
      await turnDone(page)
      const button = page.getByRole('button', { name: /New messages/ })
      await button.waitFor({ timeout: WAIT })
      check((await newestInView(page)).fromBottom > 400, 'the view stayed where the reader scrolled')
      await button.click()
      seen = await newestInView(page)
      check(seen.fromBottom <= 48, `the button brings the newest into view (${JSON.stringify(seen)})`)
    })

    await step('alice at 1280 px: tables keep their words whole and stay inside their cards', '02d-tables-1280.png', alice.page, async () => {
      await alice.page.setViewportSize({ width: 1280, height: 800 })
      await alice.page.locator('.turn').first().scrollIntoViewIfNeeded()
      const problems = await tableProblems(alice.page)
      check(problems.length === 0, problems.slice(0, 5).join('; '))
      await alice.page.setViewportSize({ width: 1366, height: 860 })
    })

    // Carol, SRE: scaling needs an SRE lead's approval.
    const carol = await newUser(browser, ui, consoleErrors)
    await step('carol: "scale api-server to 3 replicas" shows an approval card waiting for an SRE lead', '03-carol-waiting.png', carol.page, async () => {
      await signIn(carol.page, 'Carol Diaz')
      await ask(carol.page, 'scale api-server to 3 replicas')
      const approval = carol.page.getByRole('region', { name: /Approval request for devops\.scale_deployment: Pending/ })
      await approval.waitFor({ timeout: WAIT })
      await approval.getByText(/Waiting for approval by .*SRE lead/).waitFor({ timeout: WAIT })
      check((await approval.getByRole('button', { name: 'Approve' }).count()) === 0, 'the requester cannot approve')
      // Every argument, the namespace the tool will use by default included, and what it will do.
      const args = approval.getByRole('table', { name: 'Arguments of devops.scale_deployment' })
      const row = async (name) => (await args.getByRole('row', { name: new RegExp(`^${name}`) }).innerText()).replace(/\s+/g, ' ')
      check(/api-server/.test(await row('Deployment name')), 'the card shows the deployment')
      check(/3/.test(await row('Replicas')), 'the card shows the replicas')
      check(/production \(default/.test(await row('Namespace')), `the card shows the default namespace: ${await row('Namespace')}`)
      await approval.getByText(/What it will do: Set the number of replicas/).waitFor({ timeout: WAIT })
    })

    // Dan, SRE lead, in another browser context: approves from the pending approvals view.
    const dan = await newUser(browser, ui, consoleErrors)
    await step('dan: the pending approvals view lists carol\'s request', '04-dan-pending.png', dan.page, async () => {
      await signIn(dan.page, 'Dan Okafor')
      await dan.page.getByRole('link', { name: /^Pending approvals/ }).click()
      await dan.page.waitForURL(/\/pending-approvals$/)
      const card = dan.page.getByRole('region', { name: /Approval request for devops\.scale_deployment: Pending/ })
      await card.waitFor({ timeout: WAIT })
      await card.getByText('carol', { exact: true }).first().waitFor({ timeout: WAIT })
      await card.getByRole('row', { name: /^Namespace\s+production \(default/ }).waitFor({ timeout: WAIT })
      await card.getByLabel('Comment (optional)').fill('Approved for the launch traffic.')
    })
    await step('dan: approve', '05-dan-approved.png', dan.page, async () => {
      const card = dan.page.getByRole('region', { name: /Approval request for devops\.scale_deployment: Pending/ })
      await card.getByRole('button', { name: 'Approve' }).click()
      await dan.page.getByText('Approved devops.scale_deployment for carol.').waitFor({ timeout: WAIT })
    })
    await step('carol: the conversation shows the approved call and its result', '06-carol-result.png', carol.page, async () => {
      const card = carol.page.getByRole('article', { name: 'Tool call devops.scale_deployment: OK' })
      await card.waitFor({ timeout: WAIT })
      await card.getByText(/Approved by dan/).waitFor({ timeout: WAIT })
      await turnDone(carol.page)
    })

    // Bob, finance clerk: no HR rights.
    const bob = await newUser(browser, ui, consoleErrors)
    await step('bob: "Get employee E001" is refused in plain words', '07-bob-denied.png', bob.page, async () => {
      await signIn(bob.page, 'Bob Chen')
      await ask(bob.page, 'Get employee E001')
      await turnDone(bob.page)
      const text = await bob.page.locator('.turn').last().innerText()
      check(!text.includes('Sarah Johnson'), 'bob must not see the employee')
      const deniedCard = await bob.page.getByRole('article', { name: /Tool call hr\.get_employee: Denied/ }).count()
      check(deniedCard > 0 || /(can't|cannot|not allowed|doesn't have access|no access)/i.test(text), `expected a plain refusal, got: ${text.slice(0, 200)}`)
    })

    // A network drop in the middle of a turn: the UI reconnects and resumes after the last event.
    const dave = await browser.newContext({ viewport: { width: 1366, height: 860 } })
    const davePage = await dave.newPage()
    davePage.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
    await step('carol (through a flaky network): the stream reconnects with Last-Event-ID and misses nothing', '08-reconnect.png', davePage, async () => {
      await davePage.goto(proxy.url)
      await signIn(davePage, 'Carol Diaz')
      await ask(davePage, 'scale api-server to 3 replicas')
      const pending = davePage.getByRole('region', { name: /Approval request for devops\.scale_deployment: Pending/ })
      await pending.waitFor({ timeout: WAIT })
      // The card may come from the history alone; cut the stream only once it has delivered an
      // event, so there is an ID to resume from.
      const convId = /\/c\/([0-9a-f-]{36})$/.exec(davePage.url())?.[1]
      const seenBy = Date.now() + WAIT
      while (proxy.forwardedEventId(convId) === 0 && Date.now() < seenBy) await sleep(50)
      const seen = proxy.forwardedEventId(convId)
      check(seen > 0, 'the stream delivered an event before the drop')
      await sleep(200) // time for the page to read what its connection already holds
      const before = proxy.eventRequests.length
      check(proxy.dropStreams() >= 1, 'an event stream was open')
      // The UI reconnects on its own, quoting the last event it saw.
      const deadline = Date.now() + WAIT
      while (proxy.eventRequests.length === before && Date.now() < deadline) await sleep(100)
      const resumed = proxy.eventRequests[proxy.eventRequests.length - 1]
      check(proxy.eventRequests.length > before, 'the UI reconnected')
      check(Number(resumed.lastEventId) >= seen, `the reconnect sent Last-Event-ID ${seen} or later (got "${resumed.lastEventId}")`)
      // Approve through the API as dan, while the resumed stream is the only one open.
      const token = await (await fetch(`${gateway}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"dan"}' })).json()
      const list = await (await fetch(`${gateway}/approvals`, { headers: { Authorization: `Bearer ${token.access_token}` } })).json()
      const mine = (list.approvals ?? []).find((a) => a.conversation_id === convId)
      check(!!mine, 'dan sees the request')
      const r = await fetch(`${gateway}/approvals/${mine.id}/decision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.access_token}` },
        body: JSON.stringify({ decision: 'approve', args_hash: mine.args_hash, comment: 'after the drop' }),
      })
      check(r.ok, `the decision was accepted (${r.status})`)
      await davePage.getByRole('article', { name: 'Tool call devops.scale_deployment: OK' }).waitFor({ timeout: WAIT })
      await turnDone(davePage)
      check((await davePage.getByRole('article', { name: /Tool call/ }).count()) === 1, 'one tool card, not duplicated by the replay')
      const texts = await davePage.locator('.turn .markdown').allInnerTexts()
      check(new Set(texts).size === texts.length, `no text shown twice: ${JSON.stringify(texts)}`)
    })
    await dave.close()

    // An outage: the event stream and the API cannot be reached. The chat says so in plain
    // words, and recovers by itself once they are back.
    const outage = await browser.newContext({ viewport: { width: 1366, height: 860 } })
    const outagePage = await outage.newPage()
    outagePage.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
    await step('carol (during an outage): a banner says the platform cannot be reached, then goes away by itself', '08c-outage-recovered.png', outagePage, async () => {
      const page = outagePage
      await page.goto(proxy.url)
      await signIn(page, 'Carol Diaz')
      await ask(page, 'list pods in staging')
      await turnDone(page)
      const blocked = (route) => route.abort('connectionrefused')
      await page.route('**/conversations/*/events', blocked)
      await page.route('**/chat', blocked)
      check(proxy.dropStreams() >= 1, 'an event stream was open')
      const banner = page.getByRole('alert').filter({ hasText: 'Can’t reach the platform' })
      await banner.waitFor({ timeout: WAIT })
      // A message sent now is kept, with the reason it was not sent.
      const box = page.getByLabel('Message', { exact: true })
      await box.fill('list deployments in staging')
      await box.press('Enter')
      await page.getByRole('alert').filter({ hasText: 'your message was not sent' }).waitFor({ timeout: WAIT })
      check((await box.inputValue()) === 'list deployments in staging', 'the unsent message stays in the box')
      await page.screenshot({ path: join(shots, '08b-outage.png') })
      // Nothing else is done: the send below and the stream's own retries bring it back.
      await page.unroute('**/conversations/*/events', blocked)
      await page.unroute('**/chat', blocked)
      await box.press('Enter')
      await page.waitForFunction(() => document.querySelectorAll('.turn').length === 2, null, { timeout: WAIT })
      await turnDone(page)
      await page.waitForFunction(() => ![...document.querySelectorAll('[role="alert"]')].some((e) => /reach the platform/.test(e.textContent ?? '')), null, { timeout: WAIT })
      check((await page.getByRole('article', { name: 'Tool call devops.list_deployments: OK' }).count()) === 1, 'the turn sent after the outage ran')
    })
    await outage.close()

    // The same conversation on a phone.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
    const phonePage = await phone.newPage()
    await step('phone layout: the conversation list opens as a drawer', '09-phone.png', phonePage, async () => {
      await phonePage.goto(ui)
      await signIn(phonePage, 'Alice Martin')
      await phonePage.getByRole('button', { name: 'Open conversations' }).click()
      await phonePage.getByRole('link', { name: /^Get employee E001/ }).first().click()
      await phonePage.getByRole('article', { name: 'Tool call hr.get_employee: OK' }).waitFor({ timeout: WAIT })
      const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      check(overflow <= 1, `the page scrolls sideways by ${overflow}px`)
    })
    await step('phone layout (390 px): tables keep their words whole and scroll inside their cards', '09b-phone-tables.png', phonePage, async () => {
      await phonePage.getByRole('button', { name: 'Open conversations' }).click()
      await phonePage.getByRole('link', { name: /^who works in Engineering/ }).first().click()
      const table = phonePage.locator('.turn-completed .markdown table').first()
      await table.waitFor({ timeout: WAIT })
      // The conversation may render its answer once more as its events load: scroll to the
      // table that is there once it settles.
      for (let attempt = 1; ; attempt++) {
        try {
          await table.scrollIntoViewIfNeeded({ timeout: 5000 })
          break
        } catch (err) {
          if (attempt >= 5 || !/not attached/.test(String(err))) throw err
          await phonePage.waitForTimeout(300)
        }
      }
      const problems = await tableProblems(phonePage)
      check(problems.length === 0, problems.slice(0, 5).join('; '))
      const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      check(overflow <= 1, `the page scrolls sideways by ${overflow}px`)
    })

    // Audrey, auditor: the audit log shows the calls of the steps above, with their approver.
    const audrey = await newUser(browser, ui, consoleErrors)
    await step('audrey: the audit log, filtered to devops.* and Succeeded, shows carol\'s scaling approved by dan', '10-audit.png', audrey.page, async () => {
      const page = audrey.page
      await signIn(page, 'Audrey Kim')
      await page.getByRole('link', { name: 'Audit' }).click()
      await page.waitForURL(/\/audit-log$/)
      await page.getByRole('heading', { name: 'Audit log' }).waitFor({ timeout: WAIT })
      // Unfiltered, the newest records include alice's lookup.
      await page.getByRole('button', { name: /^Details of hr\.get_employee by alice/ }).first().waitFor({ timeout: WAIT })

      const filters = page.getByRole('search', { name: 'Filter the audit log' })
      await filters.getByLabel('Tool').fill('devops.*')
      await filters.getByLabel('Outcome').selectOption('succeeded')
      await filters.getByRole('button', { name: 'Apply filters' }).click()
      // Wait for the filtered page: every row a successful devops call.
      await page.waitForFunction(
        () => {
          const rows = [...document.querySelectorAll('tr.audit-row')]
          return (
            rows.length > 0 &&
            rows.every((r) => r.querySelector('.badge.outcome-succeeded') && /^devops\./.test(r.querySelector('.tool-name')?.textContent ?? ''))
          )
        },
        null,
        { timeout: WAIT },
      )
      const carolRows = page.locator('tr.audit-row', { has: page.getByRole('button', { name: /^Details of devops\.scale_deployment by carol/ }) })
      const rows = page.locator('tr.audit-row')
      const n = await rows.count()
      check(n >= 2, `carol's two approved scalings are listed (found ${n} rows)`)
      for (let i = 0; i < n; i++) {
        const cells = await rows.nth(i).locator('td').allInnerTexts()
        check(/devops\.\w+/.test(cells[2]) && !/hr\./.test(cells[2]), `row ${i + 1} is a devops tool: ${cells[2]}`)
        check(cells[3].trim() === 'Succeeded', `row ${i + 1} succeeded: ${cells[3]}`)
      }
      const carol = carolRows.first()
      check((await carol.locator('td').nth(4).innerText()).trim() === 'dan', 'dan approved carol\'s call')
      check((await carol.locator('.domain-chip').innerText()).toLowerCase() === 'devops', 'the row shows the devops domain')
      check((await carol.locator('.badge.outcome-succeeded').count()) === 1, 'the outcome is a green pill')

      // The row opens to the call's parameters, result and workflow.
      await carol.getByRole('button', { name: /^Details of / }).click()
      const detail = page.locator('tr.audit-detail').first()
      await detail.getByRole('region', { name: 'Parameters of devops.scale_deployment' }).getByText('api-server').first().waitFor({ timeout: WAIT })
      await detail.getByRole('region', { name: 'Result of devops.scale_deployment' }).waitFor({ timeout: WAIT })
      const wf = (await detail.locator('dt', { hasText: 'Workflow ID' }).locator('xpath=following-sibling::dd').innerText()).trim()
      check(wf.length > 3 && wf !== '—', `the workflow ID is shown (${wf})`)
      await sleep(300) // let the row's chevron finish turning before the screenshot
    })

    const audreyPhone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
    const audreyPhonePage = await audreyPhone.newPage()
    audreyPhonePage.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
    await step('audrey on a phone: the audit records fit the screen as cards', '11-audit-phone.png', audreyPhonePage, async () => {
      const page = audreyPhonePage
      await page.goto(ui)
      await signIn(page, 'Audrey Kim')
      await page.getByRole('link', { name: 'Audit' }).click()
      await page.getByRole('button', { name: /^Details of devops\.scale_deployment by carol/ }).first().waitFor({ timeout: WAIT })
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      check(overflow <= 1, `the page scrolls sideways by ${overflow}px`)
      const wrap = await page.locator('.audit-wrap').evaluate((el) => el.scrollWidth - el.clientWidth)
      check(wrap <= 1, `the audit table scrolls sideways by ${wrap}px`)
    })
    await audreyPhone.close()

    // The admin: the Usage page shows their own allowance and everyone's tokens, alice's among them.
    const admin = await newUser(browser, ui, consoleErrors)
    await step('admin: the Usage page shows the daily allowance and every user\'s tokens, alice among them', '12-usage.png', admin.page, async () => {
      const page = admin.page
      await signIn(page, 'Platform Admin')
      await page.getByRole('link', { name: 'Usage' }).click()
      await page.waitForURL(/\/my-usage$/)
      await page.getByRole('heading', { name: 'Usage', exact: true }).waitFor({ timeout: WAIT })
      const today = page.getByTestId('usage-today')
      await today.waitFor({ timeout: WAIT })
      check(/of [\d,]+ tokens used/.test(await today.innerText()), `today's allowance is shown: ${await today.innerText()}`)
      const everyone = page.getByRole('region', { name: 'Tokens by user, last 30 days' })
      const aliceRow = everyone.locator('tr', { has: page.getByRole('rowheader', { name: /^alice/ }) })
      await aliceRow.waitFor({ timeout: WAIT })
      const cells = await aliceRow.locator('td').allInnerTexts()
      check(Number(cells[3].replace(/,/g, '')) > 0, `alice used tokens (${cells.join(' | ')})`)
      check(/mock: [\d,]+/.test(await aliceRow.innerText()), 'the row names the model')
    })

    // Oscar, operator: a tool of a domain onboarded by YAML only (kind mcp, the MCP reference
    // server over stdio) answers with an image, which the tool card shows as the server sent it.
    const oscar = await newUser(browser, ui, consoleErrors)
    await step('oscar: "call everything.get_tiny_image" shows the MCP server\'s PNG, unchanged, in the tool card', '13-mcp-image.png', oscar.page, async () => {
      const page = oscar.page
      const tool = 'everything.get_tiny_image'
      const direct = await callUpstream('get-tiny-image')
      const want = direct.content.find((b) => b.type === 'image')
      check(want?.mimeType === 'image/png' && want.data.length > 100, `the upstream answers with a PNG: ${JSON.stringify(direct).slice(0, 200)}`)
      await toolOffered(gateway, 'oscar', tool)

      await signIn(page, 'Oscar Novak')
      await ask(page, `call ${tool}`)
      const card = page.getByRole('article', { name: `Tool call ${tool}: OK` })
      await card.waitFor({ timeout: WAIT })
      await turnDone(page)
      const img = card.getByLabel(`Content returned by ${tool}`).getByRole('img', { name: `Image from ${tool} (image/png)` })
      await img.waitFor({ timeout: WAIT })
      check((await card.locator('img').count()) === 1, 'the card shows one image')
      const src = await img.getAttribute('src')
      check(src === `data:image/png;base64,${want.data}`, `the image is the upstream's PNG, unchanged (src starts ${String(src).slice(0, 60)}…, ${src?.length} characters)`)
      // It decoded and rendered: the browser knows its size.
      await page.waitForFunction((el) => el.complete, await img.elementHandle(), { timeout: WAIT })
      const size = await img.evaluate((el) => ({ w: el.naturalWidth, h: el.naturalHeight, shown: el.getBoundingClientRect().width }))
      check(size.w > 0 && size.h > 0 && size.shown > 0, `the image rendered (${JSON.stringify(size)})`)
      // The text blocks around it arrive too, in the upstream's order.
      const texts = direct.content.filter((b) => b.type === 'text').map((b) => b.text)
      const shown = await card.locator('.tool-content .content-text').allInnerTexts()
      check(JSON.stringify(shown) === JSON.stringify(texts), `the text blocks are the upstream's: ${JSON.stringify(shown)}`)
      await img.scrollIntoViewIfNeeded()
    })
  } finally {
    await browser.close()
  }
  return consoleErrors
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no browser at ${chromiumPath}: apt-get update && apt-get install -y chromium (or set CHROMIUM)`)
  }
  let stack
  let proxy
  try {
    let base = process.env.E2E_BASE_URL
    installUpstreams()
    if (!base) {
      build()
      stack = await startStack()
      base = stack.base
    }
    const mode = process.env.E2E_UI ?? ((await gatewayServesUI(base)) ? 'gateway' : 'proxy')
    proxy = await startProxy(base, { dist: mode === 'proxy' })
    const ui = mode === 'proxy' ? proxy.url : base
    if (mode === 'proxy') log(`the gateway does not serve the UI (yet): serving web/dist at ${ui}, proxying the API to ${base}`)
    else log(`the gateway serves the UI at ${ui}`)
    const consoleErrors = await scenario(ui, proxy, base)
    console.log('\nE2E results')
    for (const r of results) {
      console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name}  (${(r.ms / 1000).toFixed(1)} s)${r.file ? `  → ${r.file.replace(repo + '/', '')}` : ''}`)
      if (!r.ok) console.log(`        ${r.error}`)
    }
    // 404/409 answers are part of the scenario; the reconnect step cuts every stream that goes
    // through the proxy on purpose, which Chromium logs as an incomplete chunked response, and
    // the outage step refuses connections.
    const unexpected = consoleErrors.filter(
      (e) => !/Failed to load resource: (the server responded with a status of 40[49]|net::ERR_INCOMPLETE_CHUNKED_ENCODING|net::ERR_CONNECTION_REFUSED)/.test(e),
    )
    if (unexpected.length) {
      console.log('\nBrowser errors:')
      for (const e of unexpected) console.log(`  ${e}`)
    }
    console.log(`\nUI served by: ${mode}`)
    const passed = results.filter((r) => r.ok).length
    console.log(`e2e: ${passed} passed, ${results.length - passed} failed`)
    if (results.some((r) => !r.ok) || unexpected.length) {
      if (stack) console.log(`stack log (last lines of ${stack.logFile}):\n${tail(stack.logFile, 15)}`)
      process.exitCode = 1
    }
  } finally {
    await proxy?.close()
    await stack?.stop()
  }
}

main().catch((e) => {
  console.error(`e2e: ${e.message ?? e}`)
  process.exitCode = 1
})
