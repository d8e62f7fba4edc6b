/**
 * Rate-limit bursts and outages through `llmGuard()` with its defaults (D6, R7):
 * - 429 burst: N concurrent callers each meet one 429 with `retry-after-ms: 100` from a local HTTP
 *   provider, which then answers every request. Reported: the share of calls that succeed, the
 *   requests that reached the provider, and the time until the last call settled. In one process
 *   (in-memory breaker) and across 4 processes sharing one Redis breaker.
 * - outage: the provider answers 503 for a while; callers keep calling. Reported: how fast calls
 *   fail once the breaker is open (nobody waits for the 30 s recovery) and probes per window.
 *
 * A fleet worker is this file run as a child process (`--worker`), so the same code measures both.
 */
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { isBrokenCircuitError, llmGuard } from 'breakwater'
import { quantile } from './lib/measure.mjs'

const self = fileURLToPath(import.meta.url)
export const BURST_SETUP = { retryAfterMs: 100, answerMs: 5, processes: 4 }
const OUTAGE = { callers: 20, downMs: 2_000, recoveryMs: 500, service: 'bench:outage' }

/**
 * A provider that answers each caller's first request (the caller is the last path segment) with
 * a 429 and `retry-after-ms`, and every other request with 200 after `answerMs`; or, while `down`,
 * every request with a 503.
 */
async function startProvider() {
  const seen = new Set()
  const provider = { requests: 0, rateLimited: 0, down: false, downHits: [] }
  const server = createServer((req, res) => {
    provider.requests++
    if (provider.down) {
      provider.downHits.push(performance.now())
      return res.writeHead(503).end('down')
    }
    if (!seen.has(req.url)) {
      seen.add(req.url)
      provider.rateLimited++
      return res.writeHead(429, { 'retry-after-ms': String(BURST_SETUP.retryAfterMs) }).end('slow down')
    }
    setTimeout(() => res.writeHead(200).end('ok'), BURST_SETUP.answerMs)
  })
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  provider.url = `http://127.0.0.1:${server.address().port}`
  provider.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return provider
}

/** One request, failing like an SDK error (status and headers) on anything but a 200. */
async function request(url, signal) {
  const res = await fetch(url, { signal })
  const body = await res.text()
  if (res.status !== 200) {
    throw Object.assign(new Error(`HTTP ${res.status}`), {
      status: res.status,
      headers: Object.fromEntries(res.headers),
    })
  }
  return body
}

/** N callers at once through one guard; resolves with how many succeeded and the errors' kinds. */
async function burstOnce(guard, url, first, n) {
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      guard
        .execute((ctx) => request(`${url}/c/${first + i}`, ctx.signal), { service: 'bench:burst' })
        .then(
          () => 'ok',
          (error) => (isBrokenCircuitError(error) ? `BrokenCircuitError(${error.reason})` : String(error)),
        ),
    ),
  )
  const errors = {}
  for (const r of results) if (r !== 'ok') errors[r] = (errors[r] ?? 0) + 1
  return { ok: results.filter((r) => r === 'ok').length, errors }
}

/** The 429 burst in this process, on the in-memory breaker. */
async function burstInMemory(n) {
  const provider = await startProvider()
  try {
    const guard = llmGuard({ backpressure: { hardLimit: 2 * n } })
    const started = performance.now()
    const { ok, errors } = await burstOnce(guard, provider.url, 0, n)
    return {
      mode: 'memory',
      n,
      ok,
      errors,
      requests: provider.requests,
      rateLimited: provider.rateLimited,
      drainMs: performance.now() - started,
    }
  } finally {
    await provider.close()
  }
}

/** The 429 burst split over P child processes sharing one Redis breaker. */
async function burstFleet(n, redisPort) {
  const { processes: P } = BURST_SETUP
  const provider = await startProvider()
  const prefix = `bench-burst-${n}-${Date.now()}`
  const children = []
  try {
    const ready = []
    for (let i = 0; i < P; i++) {
      const child = fork(self, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      ready.push(
        new Promise((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`burst worker ${i} exited with ${code}`)))
          child.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error(m.error))))
        }),
      )
      child.send({ type: 'setup', redisPort, prefix, hardLimit: 2 * n })
    }
    await Promise.all(ready)
    const started = performance.now()
    const share = Math.ceil(n / P)
    const answers = await Promise.all(
      children.map(
        (child, i) =>
          new Promise((resolve) => {
            child.once('message', resolve)
            child.send({ type: 'go', url: provider.url, first: i * share, n: Math.min(share, n - i * share) })
          }),
      ),
    )
    const drainMs = performance.now() - started
    const errors = {}
    for (const a of answers) for (const [k, v] of Object.entries(a.errors)) errors[k] = (errors[k] ?? 0) + v
    return {
      mode: 'redis',
      n,
      ok: answers.reduce((s, a) => s + a.ok, 0),
      errors,
      requests: provider.requests,
      rateLimited: provider.rateLimited,
      drainMs,
    }
  } finally {
    for (const child of children) {
      child.removeAllListeners('exit')
      if (child.exitCode === null) child.send({ type: 'stop' })
    }
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))),
    )
    await provider.close()
  }
}

/** A fleet worker: one guard on the shared Redis breaker; runs its share of the burst on 'go'. */
async function worker() {
  const { Redis } = await import('ioredis')
  const { RedisCircuitBackend } = await import('breakwater/redis')
  let client
  let backend
  let guard
  process.on('message', async (m) => {
    try {
      if (m.type === 'setup') {
        client = new Redis({ port: m.redisPort, host: '127.0.0.1' })
        backend = new RedisCircuitBackend({ client, prefix: m.prefix })
        await backend.ready()
        guard = llmGuard({ backpressure: { hardLimit: m.hardLimit }, circuit: { backend } })
        process.send({ type: 'ready' })
      } else if (m.type === 'go') {
        process.send(await burstOnce(guard, m.url, m.first, m.n))
      } else if (m.type === 'stop') {
        await backend?.close()
        client?.disconnect()
        process.exit(0)
      }
    } catch (error) {
      process.send({ type: 'error', error: String(error) })
    }
  })
}

/**
 * The outage: callers call in a loop; after a healthy start the provider answers 503 for
 * `downMs`. Calls started while the breaker is open must fail at once, and the dead provider sees
 * one probe per recovery window.
 */
async function outage() {
  const provider = await startProvider()
  const guard = llmGuard({ circuit: { recoveryMs: OUTAGE.recoveryMs, maxRecoveryMs: OUTAGE.recoveryMs } })
  let openedAt
  const refusedMs = []
  const halfOpenAt = []
  // Every caller has asked once before the outage (the provider's first request per caller is a 429).
  await burstOnce(guard, provider.url, 0, OUTAGE.callers)
  guard.circuit.onStateChange((e) => {
    if (e.service !== OUTAGE.service) return
    if (e.to === 'open' && openedAt === undefined) openedAt = performance.now()
    if (e.to === 'half-open') halfOpenAt.push(performance.now())
  })
  let running = true
  provider.down = true
  const downAt = performance.now()
  const loops = Array.from({ length: OUTAGE.callers }, async (_, i) => {
    while (running) {
      const started = performance.now()
      try {
        await guard.execute((ctx) => request(`${provider.url}/c/${i}`, ctx.signal), {
          service: OUTAGE.service,
        })
      } catch (error) {
        if (isBrokenCircuitError(error) && error.reason === 'open')
          refusedMs.push(performance.now() - started)
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })
  await new Promise((resolve) => setTimeout(resolve, OUTAGE.downMs)) // the outage: real time on purpose
  running = false
  await Promise.all(loops)
  await provider.close()
  // Requests sent before the breaker opened may still arrive after it: everything up to the first
  // half-open is the burst; after it, each half-open window should let exactly one probe through.
  const firstProbeWindow = halfOpenAt[0] ?? Number.POSITIVE_INFINITY
  const probes = provider.downHits.filter((t) => t >= firstProbeWindow).length
  return {
    ...OUTAGE,
    openAfterMs: openedAt === undefined ? Number.NaN : openedAt - downAt,
    beforeFirstProbe: provider.downHits.length - probes,
    refused: refusedMs.length,
    refusedP50Ms: quantile(refusedMs, 0.5),
    refusedP99Ms: quantile(refusedMs, 0.99),
    windows: halfOpenAt.length,
    probesPerWindow: halfOpenAt.length > 0 ? probes / halfOpenAt.length : Number.NaN,
  }
}

/** Every scenario: the burst at each N in memory and on Redis (`redisPort`), then the outage. */
export async function burst({ sizes = [10, 100, 1_000], redisPort } = {}) {
  const rows = []
  for (const n of sizes) rows.push(await burstInMemory(n))
  for (const n of sizes) rows.push(await burstFleet(n, redisPort))
  return { rows, outage: await outage() }
}

/** The section of BENCHMARKS.md. */
export function burstSection({ rows, outage: o }) {
  const pct = (x) => `${(x * 100).toFixed(1)} %`
  const errors = (e) =>
    Object.entries(e)
      .map(([k, v]) => `${k} × ${v}`)
      .join(', ') || 'none'
  const { retryAfterMs, answerMs, processes } = BURST_SETUP
  return [
    '## 429 burst and outage (llmGuard defaults)',
    '',
    `N callers at once through \`llmGuard()\` with its defaults (backpressure \`hardLimit\` raised to`,
    `2N so nothing is shed); each caller's first request is answered 429 with \`retry-after-ms: ${retryAfterMs}\`,`,
    `every later request 200 after ${answerMs} ms (a local HTTP provider, real time). "memory": one process;`,
    `"redis": ${processes} processes, N/${processes} callers each, one breaker shared through a private redis-server.`,
    'A perfect run: every call succeeds with 2 requests per caller (the 429 and the answer).',
    '',
    '| breaker | N | calls that succeed | requests at the provider (per caller) | answered 429 | time to drain | caller errors |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.n} | ${pct(r.ok / r.n)} | ${r.requests} (${(r.requests / r.n).toFixed(2)}) | ${r.rateLimited} | ${Math.round(r.drainMs)} ms | ${errors(r.errors)} |`,
    ),
    '',
    `Outage: ${o.callers} callers call in a loop (5 ms apart) while the provider answers 503 for ${o.downMs} ms;`,
    `\`circuit: { recoveryMs: ${o.recoveryMs}, maxRecoveryMs: ${o.recoveryMs} }\`, everything else the defaults.`,
    '',
    'Requests sent before the breaker opened count toward "before the first probe" even when they arrive after it.',
    '',
    '| opened after | requests before the first probe | calls refused while open | refusal latency p50 / p99 | recovery windows | probes per window |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${Math.round(o.openAfterMs)} ms | ${o.beforeFirstProbe} | ${o.refused} | ${o.refusedP50Ms.toFixed(2)} / ${o.refusedP99Ms.toFixed(2)} ms | ${o.windows} | ${o.probesPerWindow.toFixed(2)} |`,
    '',
  ]
}

/** BENCHMARKS.md with the burst section put before "## Reproduce". */
export function withBurst(markdown, result) {
  return markdown.replace('## Reproduce', () => `${burstSection(result).join('\n')}\n## Reproduce`)
}

if (process.argv.includes('--worker')) void worker()
