/**
 * `npm run soak`: a longer bounded soak of llmGuard against the fake provider over real HTTP.
 * Workers call the OpenAI-compatible endpoint through the guard while random faults (429 with
 * Retry-After, 500, 503, 529 overloaded, 400, stalls, connection resets, slow answers) and a short
 * outage hit it. Checks at the end: every call settled, no unhandled rejection, backpressure depth
 * and queue back to 0, dedupe entries within maxEntries, heap flat. Exit code 1 on a violation.
 * Usage: node --expose-gc bench/soak.mjs [--seconds 30] [--workers 48] [--fault-rate 0.05]
 */
import { llmGuard } from 'breakwater'
import { startFakeProvider } from '../dist/testing/fake-provider/index.js'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const SECONDS = arg('seconds', 30)
const WORKERS = arg('workers', 48)
const MAX_ENTRIES = 200
const FAULT_RATE = arg('fault-rate', 0.05)

const unhandled = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))

const FAULTS = [
  () => ({ kind: 'rate_limit', retryAfterMs: Math.floor(Math.random() * 500) }),
  () => ({ kind: 'server_error', status: 500 }),
  () => ({ kind: 'server_error', status: 503 }),
  () => ({ kind: 'overloaded' }),
  () => ({ kind: 'status', status: 400, body: { error: { type: 'invalid_request_error' } } }),
  () => ({ kind: 'stall' }),
  () => ({ kind: 'reset' }),
  () => ({ kind: 'delay', ms: Math.floor(Math.random() * 300) }),
]

/** A provider call the way an SDK makes it: errors carry status and headers. */
async function complete(url, body, signal) {
  const res = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer soak' },
    body: JSON.stringify(body),
    signal,
  })
  const text = await res.text()
  if (!res.ok) {
    throw Object.assign(new Error(`HTTP ${res.status}`), {
      status: res.status,
      headers: Object.fromEntries(res.headers),
    })
  }
  return JSON.parse(text)
}

const provider = await startFakeProvider({ chunkDelayMs: 1 })
const guard = llmGuard({
  service: 'openai:soak',
  dedupe: { ttlMs: 1_000, maxEntries: MAX_ENTRIES },
  retry: { maxAttempts: 3, baseDelayMs: 50 },
  timeout: { attemptMs: 1_000, totalMs: 5_000, idleMs: 500 },
  circuit: { threshold: 10, recoveryMs: 500, maxRecoveryMs: 2_000 },
})

const counts = new Map()
let started = 0
let settled = 0
let maxDedupe = 0
const heap = []
const deadline = Date.now() + SECONDS * 1000
const outageAt = Date.now() + (SECONDS * 1000) / 2

async function worker(id) {
  while (Date.now() < deadline) {
    const controller = Math.random() < 0.05 ? new AbortController() : undefined
    if (controller) setTimeout(() => controller.abort(new Error('caller gave up')), Math.random() * 300)
    const keyed = Math.random() < 0.3
    const body = {
      model: 'soak-model',
      messages: [
        { role: 'user', content: `q${keyed ? Math.floor(Math.random() * 500) : `${id}-${started}`}` },
      ],
    }
    started++
    const outcome = await guard
      .execute(
        (ctx) => {
          // Queued only for a request that is really sent, so faults never pile up while the breaker is open.
          if (Math.random() < FAULT_RATE) provider.fail(FAULTS[Math.floor(Math.random() * FAULTS.length)]())
          return complete(provider.openaiBaseURL, body, ctx.signal)
        },
        {
          key: keyed ? body.messages[0].content : undefined,
          priority: id % 4 === 0 ? 'background' : 'foreground',
          signal: controller?.signal,
        },
      )
      .then(
        () => 'ok',
        (error) => error?.code ?? (error?.status ? `status ${error.status}` : (error?.name ?? 'error')),
      )
    settled++
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
    // A caller refused at once (open breaker, shed) does something else for a moment, as a user would.
    if (outcome === 'BREAKWATER_BROKEN_CIRCUIT' || outcome === 'BREAKWATER_BACKPRESSURE_SHED') {
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30))
    }
    maxDedupe = Math.max(maxDedupe, guard.dedupe.size)
  }
}

const sampler = setInterval(() => {
  provider.reset() // the fake keeps a log of every request; a soak must not grow it without bound
  if (Date.now() > outageAt && Date.now() < outageAt + 1_000)
    provider.fail({ kind: 'server_error', status: 503 }, { times: 200 })
  globalThis.gc?.() // with --expose-gc the samples are live heap, not garbage not yet collected
  heap.push(process.memoryUsage().heapUsed)
}, 1_000)

await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)))
clearInterval(sampler)
await new Promise((resolve) => setTimeout(resolve, 100))

const problems = []
if (settled !== started) problems.push(`${started - settled} calls never settled`)
if (unhandled.length > 0) problems.push(`${unhandled.length} unhandled rejections: ${unhandled[0]}`)
if (guard.backpressure.depth !== 0) problems.push(`backpressure depth ${guard.backpressure.depth} at the end`)
if (guard.backpressure.queued !== 0)
  problems.push(`backpressure queue ${guard.backpressure.queued} at the end`)
if (maxDedupe > MAX_ENTRIES + WORKERS)
  problems.push(`dedupe held ${maxDedupe} entries (max ${MAX_ENTRIES} + ${WORKERS} in flight)`)
const half = heap.slice(Math.floor(heap.length / 2))
const early = half.length > 0 ? Math.min(...heap.slice(1, Math.max(2, Math.floor(heap.length / 2)))) : 0

await provider.close()
console.log(
  JSON.stringify(
    {
      seconds: SECONDS,
      workers: WORKERS,
      calls: started,
      settled,
      outcomes: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
      maxDedupeEntries: maxDedupe,
      heapMiB: heap.map((h) => +(h / 2 ** 20).toFixed(1)),
      heapLateVsEarlyMin: early ? +(Math.max(...half) / early).toFixed(2) : null,
      problems,
    },
    null,
    2,
  ),
)
process.exitCode = problems.length > 0 ? 1 : 0
