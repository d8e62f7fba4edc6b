/**
 * Rate limit across a fleet (DESIGN.md §8, L2): P processes call the fake provider, which enforces
 * a real request and token budget per API key (one key for the whole fleet, as one account is),
 * with more demand than the budget allows. Each process uses the user's path: `wrapOpenAI(new
 * OpenAI(…), llmGuard({ rateLimit }))`; the wrapper reports every answer's rate-limit headers,
 * 429s and usage to the limiter. Three scenarios:
 * - shared: one `RedisRateLimitStore` budget for the fleet (the provider's limits);
 * - split: a per-process in-memory limit, each its 1/P share of the limits;
 * - none: `llmGuard()` with no rate limit.
 * Counted at the fake provider: requests, the share answered 429, the share of the budget that
 * answered 200; at the callers: errors; at Redis: commands per call (INFO commandstats).
 *
 * A process of the fleet is this file run as a child (`--worker`), so every scenario runs the same
 * code; the fake provider and Redis live in the parent.
 */
import { fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { estimateRequestCost, isBrokenCircuitError, isRateLimitError, llmGuard, wrapOpenAI } from 'breakwater'
import { startFakeProvider } from 'breakwater/testing'
import { startRedis } from './redis.mjs'

const self = fileURLToPath(import.meta.url)

/** The setup reported with the results. */
export const RATELIMIT_FLEET_SETUP = {
  processes: 4,
  /**
   * Demand per process: callers in a loop and the pause after each call. `even`: every process as
   * busy as the next. `skewed`: one busy process, three that call twice a second — below their 1/P
   * share, so a per-process limit leaves their share unused while the busy one waits.
   */
  demand: {
    even: { callers: [8, 8, 8, 8], pauseMs: [0, 0, 0, 0] },
    skewed: { callers: [8, 1, 1, 1], pauseMs: [0, 500, 500, 500] },
  },
  requests: 40,
  tokens: 8_000,
  windowMs: 1_000,
  durationMs: 4_000,
}
const MODES = ['shared', 'split', 'none']
const BODY = {
  model: 'gpt-bench',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'Summarise the ticket in one line.' }],
}
/** What each call reserves: the wrapper's estimate (settled to its usage when it answers). */
const COST = estimateRequestCost(BODY, 'chat')
const API_KEY = 'sk-fleet'

/** Every scenario, one after the other, against one fake provider and one private redis-server. */
export async function ratelimitFleet({ quick = false } = {}) {
  const setup = { ...RATELIMIT_FLEET_SETUP, durationMs: quick ? 1_500 : RATELIMIT_FLEET_SETUP.durationMs }
  const { requests, tokens, windowMs } = setup
  const redis = await startRedis()
  const fake = await startFakeProvider({ rateLimits: { requests, tokens, windowMs } })
  try {
    const rows = []
    for (const shape of Object.keys(setup.demand)) {
      for (const mode of MODES) rows.push(await scenario(mode, shape, setup, fake, redis))
    }
    return { setup, rows, cost: COST }
  } finally {
    await fake.close()
    await redis.stop()
  }
}

/** Redis commands since the last RESETSTAT, without the measuring commands themselves. */
async function commandsSinceReset(admin) {
  const info = await admin.info('commandstats')
  let total = 0
  const by = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info' || m[1].startsWith('config')) continue
    by[m[1]] = Number(m[2])
    total += Number(m[2])
  }
  return { total, by }
}

async function scenario(mode, shape, setup, fake, redis) {
  const { processes: P, durationMs } = setup
  const demand = setup.demand[shape]
  const prefix = `bench-rl-${mode}-${Date.now()}`
  const children = []
  try {
    await Promise.all(
      Array.from({ length: P }, (_, i) => {
        const child = fork(self, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        children.push(child)
        const ready = new Promise((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`ratelimit worker ${i} exited with ${code}`)))
          child.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error(m.error))))
        })
        child.send({ type: 'setup', mode, setup, prefix, redisPort: redis.port, url: fake.openaiBaseURL })
        return ready
      }),
    )
    fake.reset() // whole budgets, an empty log
    await redis.client.config('RESETSTAT')
    const started = Date.now()
    const until = started + durationMs
    const answers = await Promise.all(
      children.map(
        (child, i) =>
          new Promise((resolve, reject) => {
            child.once('message', (m) => (m.type === 'done' ? resolve(m) : reject(new Error(m.error))))
            child.send({ type: 'go', until, callers: demand.callers[i], pauseMs: demand.pauseMs[i] })
          }),
      ),
    )
    const { total: commands, by: commandsBy } = await commandsSinceReset(redis.client)
    // What reached the provider while the fleet ran; the budget there was the bucket's limit at
    // the start plus what refilled over the run.
    const sent = fake.requests.filter((r) => r.at >= started && r.at < until)
    const limited = sent.filter((r) => r.fault === 'rate_limit').length
    const answered = sent.length - limited
    const budget = setup.requests + (setup.requests * durationMs) / setup.windowMs
    const sum = (field) => answers.reduce((s, a) => s + a[field], 0)
    const errors = {}
    for (const a of answers) for (const [k, v] of Object.entries(a.errors)) errors[k] = (errors[k] ?? 0) + v
    const calls = sum('ok') + sum('failed') + sum('aborted')
    return {
      mode,
      shape,
      requests: sent.length,
      limited,
      limitedShare: sent.length === 0 ? 0 : limited / sent.length,
      answered,
      budget,
      budgetUsed: answered / budget,
      ok: sum('ok'),
      failed: sum('failed'),
      aborted: sum('aborted'),
      errors,
      waited: sum('waited'),
      calls,
      redisCommands: mode === 'shared' ? commands : undefined,
      redisCommandsBy: mode === 'shared' ? commandsBy : undefined,
      commandsPerCall: mode === 'shared' ? commands / Math.max(1, calls) : undefined,
      // A script is one round trip; the commands it runs inside Redis are counted apart.
      roundTripsPerCall:
        mode === 'shared'
          ? ((commandsBy.evalsha ?? 0) + (commandsBy.eval ?? 0)) / Math.max(1, calls)
          : undefined,
    }
  } finally {
    for (const child of children) {
      child.removeAllListeners('exit')
      if (child.exitCode === null) child.send({ type: 'stop' })
    }
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))),
    )
  }
}

/** The kind of a caller error, for the table. */
function kindOf(error) {
  if (isRateLimitError(error)) return `RateLimitError(${error.limit})`
  if (isBrokenCircuitError(error)) return 'BrokenCircuitError'
  if (error?.status === 429) return '429 from the provider'
  return error?.name ?? String(error)
}

/** A process of the fleet: its guard, its wrapped client, its callers. */
async function worker() {
  let client
  let limit
  let closeStore = async () => {}
  const build = async (m) => {
    const { requests, tokens, windowMs, processes: P } = m.setup
    let rateLimit = false
    if (m.mode === 'shared') {
      const { Redis } = await import('ioredis')
      const { RedisRateLimitStore } = await import('breakwater/redis')
      const redis = new Redis({ port: m.redisPort, host: '127.0.0.1', lazyConnect: true })
      const store = new RedisRateLimitStore({ client: redis, prefix: m.prefix })
      await store.ready()
      rateLimit = { requests, tokens, windowMs, store }
      closeStore = async () => {
        await store.close()
        redis.disconnect()
      }
    } else if (m.mode === 'split') {
      rateLimit = { requests: requests / P, tokens: tokens / P, windowMs }
    }
    // llmGuard's defaults otherwise: the rate limit sits inside retry and outside backpressure.
    const guard = llmGuard({ rateLimit })
    limit = guard.rateLimit
    client = wrapOpenAI(new OpenAI({ baseURL: m.url, apiKey: API_KEY, maxRetries: 0 }), guard)
  }
  const run = async (m) => {
    const stats = { ok: 0, failed: 0, aborted: 0, waited: 0, errors: {} }
    limit?.onWait(() => stats.waited++)
    const end = new AbortController()
    const timer = setTimeout(() => end.abort(), Math.max(0, m.until - Date.now()))
    const caller = async () => {
      while (Date.now() < m.until) {
        try {
          await client.chat.completions.create(BODY, { signal: end.signal })
          stats.ok++
        } catch (error) {
          if (end.signal.aborted) stats.aborted++
          else {
            stats.failed++
            const kind = kindOf(error)
            stats.errors[kind] = (stats.errors[kind] ?? 0) + 1
          }
        }
        if (m.pauseMs > 0) await sleep(m.pauseMs)
      }
    }
    await Promise.all(Array.from({ length: m.callers }, caller))
    clearTimeout(timer)
    return stats
  }
  process.on('message', async (m) => {
    try {
      if (m.type === 'setup') {
        await build(m)
        process.send({ type: 'ready' })
      } else if (m.type === 'go') {
        process.send({ type: 'done', ...(await run(m)) })
      } else if (m.type === 'stop') {
        await closeStore()
        process.exit(0)
      }
    } catch (error) {
      process.send({ type: 'error', error: String(error?.stack ?? error) })
    }
  })
}

const fixed = (x) => (x === undefined ? '—' : x.toFixed(2))
const pct = (x) => `${(x * 100).toFixed(1)} %`
const errorList = (e) =>
  Object.entries(e)
    .map(([k, v]) => `${k} × ${v}`)
    .join(', ') || 'none'
const NAMES = {
  shared: 'one RedisRateLimitStore budget for the fleet',
  split: 'per-process limits (1/P each, in memory)',
  none: 'no rate limit (llmGuard defaults)',
}

/** The section of BENCHMARKS.md. */
export function ratelimitFleetSection({ setup, rows, cost, alone }) {
  const { processes: P, demand, requests, tokens, windowMs, durationMs } = setup
  const shared = rows.filter((r) => r.mode === 'shared')
  const verdict = (ok) => (ok ? 'met' : '**missed**')
  const worst = (f, pick) => shared.reduce((w, r) => pick(w, f(r)), f(shared[0]))
  const most429 = worst((r) => r.limitedShare, Math.max)
  const leastUsed = worst((r) => r.budgetUsed, Math.min)
  const errors = shared.reduce((n, r) => n + r.failed, 0)
  const trips = worst((r) => r.roundTripsPerCall, Math.max)
  const shapeText = (d) =>
    d.callers.map((c, i) => `${c}${d.pauseMs[i] > 0 ? ` (${d.pauseMs[i]} ms pause)` : ''}`).join(' / ')
  const n = (x) => x.toLocaleString('en-US').replaceAll(',', ' ')
  return [
    '### Rate limit across a fleet',
    '',
    ...(alone === undefined
      ? []
      : [
          `Measured on its own (\`npm run bench:ratelimit\`) on ${alone.date},`,
          `commit ${alone.commit}, load average ${alone.loadAverage}; the other sections are from the run in the header.`,
          '',
        ]),
    `${P} processes share one API key of the fake provider, which allows it ${requests} requests and ${n(tokens)} tokens`,
    `per ${n(windowMs)} ms (a bucket refilled continuously) and answers 429 with Retry-After beyond that. Each`,
    `scenario runs ${n(durationMs)} ms (real time). Callers per process, each calling in a loop: even demand`,
    `${shapeText(demand.even)}; skewed demand ${shapeText(demand.skewed)}. Demand is above the`,
    'budget in both, and requests are the limit that binds. Each process calls through',
    '`wrapOpenAI(new OpenAI({ maxRetries: 0 }), llmGuard({ rateLimit }))`, every other option the default',
    '(no `rateLimit` for "no rate limit"); each call reserves the wrapper\'s estimate',
    `(${cost} tokens) and is settled to its usage, and every answer's rate-limit headers and 429s reach the`,
    'limiter through the wrapper (the per-process limits learn from the same headers, which report the',
    `fleet's budget). The budget available is the bucket's limit at the start plus what refilled`,
    `over the run (${shared[0].budget} requests); "budget used" is the share of it answered 200. Calls still waiting`,
    'when the run ends are aborted and not counted as errors. Redis: round trips (script calls, `EVALSHA` /',
    '`EVAL`) and every command INFO commandstats counts (those the scripts run inside Redis included), per call.',
    '',
    '| demand | rate limit | requests at the provider | answered 429 | budget used | calls ok | calls that waited for budget | caller errors | Redis round trips per call | Redis commands per call |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.shape} | ${NAMES[r.mode]} | ${r.requests} | ${pct(r.limitedShare)} (${r.limited}) | ${pct(r.budgetUsed)} | ${r.ok} | ${r.waited} | ${errorList(r.errors)} | ${fixed(r.roundTripsPerCall)} | ${fixed(r.commandsPerCall)} |`,
    ),
    '',
    '| target (L2, shared budget, worst of both demands) | measured | |',
    '|---|---:|---|',
    `| ≤ 2 % of requests answered 429 while demand exceeds the limit | ${pct(most429)} | ${verdict(most429 <= 0.02)} |`,
    `| ≥ 80 % of the budget used | ${pct(leastUsed)} | ${verdict(leastUsed >= 0.8)} |`,
    `| no caller error while calls can wait | ${errors} | ${verdict(errors === 0)} |`,
    `| at most one Redis round trip per call (aim: less) | ${trips.toFixed(2)} | ${verdict(trips <= 1)} |`,
    '',
  ]
}

/**
 * BENCHMARKS.md with the section in place of an earlier one (a run of this bench alone), else put
 * before "## Reproduce".
 */
export function withRatelimitFleet(markdown, result) {
  const section = ratelimitFleetSection(result).join('\n')
  const earlier = /### Rate limit across a fleet\n[\s\S]*?(?=\n#{2,3} )/
  if (earlier.test(markdown)) return markdown.replace(earlier, () => section)
  return markdown.replace('## Reproduce', () => `${section}\n## Reproduce`)
}

if (process.argv[1] === self && process.argv.includes('--worker')) void worker()
else if (process.argv[1] === self) {
  // Alone: `npm run bench:ratelimit` (= build, then this file with --write, which puts the section
  // into BENCHMARKS.md); `--quick` for shorter scenarios.
  const { environment } = await import('./lib/environment.mjs')
  const env = environment()
  const result = {
    ...(await ratelimitFleet({ quick: process.argv.includes('--quick') })),
    alone: { date: env.date, commit: env.commit, loadAverage: env.loadAverage },
  }
  console.log(JSON.stringify(result, null, 2))
  console.log(ratelimitFleetSection(result).join('\n'))
  if (process.argv.includes('--write')) {
    const file = new URL('../BENCHMARKS.md', import.meta.url)
    writeFileSync(file, withRatelimitFleet(readFileSync(file, 'utf8'), result))
  }
}
