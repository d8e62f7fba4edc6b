/**
 * Fleet leak (DESIGN.md §8): P processes call a local HTTP provider one call at a time through a
 * circuit breaker, the provider goes down for a while, then comes back. Run twice: once with one
 * breaker shared through Redis, once with a per-process in-memory breaker each. Counted at the
 * provider: requests that reach it while it is down, split into the burst before the breaker
 * opened and the probes of each recovery window.
 *
 * The processes are the fleet test's own worker (test/circuit/fleet/fleet-worker.ts, run from
 * source through its TS loader), so the bench and test/circuit/redis-fleet.test.ts measure the
 * same thing; each gets its own provider path so every request is attributed to its process.
 * Redis is a private redis-server on a free port (test/helpers/redis-server.ts), stopped after.
 * Those TypeScript helpers import sources, so the run happens in a child process started with
 * the same TS loader as the workers; the bench process itself only reads the results.
 */
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const worker = fileURLToPath(new URL('../test/circuit/fleet/fleet-worker.ts', import.meta.url))
const register = fileURLToPath(new URL('../test/helpers/register-ts.mjs', import.meta.url))

/** The setup reported with the results. */
export const FLEET_SETUP = { processes: 4, threshold: 3, recoveryMs: 200, pauseMs: 5 }

/** Anything that does not finish in this long is a failure, not a slow run. */
const PHASE_TIMEOUT_MS = 20_000

/** Node options that let a process run the TypeScript test helpers and sources as they are. */
const TS_LOADER = ['--experimental-transform-types', '--no-warnings', '--import', register]

/**
 * Runs both modes (in a child process, see above); `downMs` is how long the provider stays down.
 * Returns, per mode, the provider's dead hits split per breaker into the burst before it opened
 * and the probes of each window.
 */
export function fleet({ downMs = 2_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--run', String(downMs)], {
      execArgv: TS_LOADER,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let answer
    child.on('message', (m) => (answer = m))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (answer?.result !== undefined) resolve(answer.result)
      else reject(new Error(`fleet bench: run failed (exit ${code}): ${answer?.error ?? 'no result'}`))
    })
  })
}

/** The run itself, in the child process. */
async function run(downMs) {
  const { startRedis, testPrefix } = await import('../test/helpers/redis-server.ts')
  const redis = await startRedis()
  try {
    const shared = await outage('redis', redis.port, downMs, testPrefix('bench-fleet'))
    const separate = await outage('memory', redis.port, downMs, testPrefix('bench-fleet'))
    return { shared, separate, downMs, ...FLEET_SETUP }
  } finally {
    await redis.stop()
  }
}

async function startProvider() {
  const provider = { down: false, deadHits: [] }
  const server = createServer((req, res) => {
    if (provider.down) {
      provider.deadHits.push({ at: performance.now(), from: req.url })
      res.writeHead(503).end('down')
    } else res.writeHead(200).end('ok')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  provider.url = `http://127.0.0.1:${server.address().port}`
  provider.close = () => new Promise((resolve) => server.close(() => resolve()))
  return provider
}

/** Resolves when `predicate` holds (checked every 10 ms); rejects after PHASE_TIMEOUT_MS. */
function until(what, predicate) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + PHASE_TIMEOUT_MS
    const check = setInterval(() => {
      if (predicate()) {
        clearInterval(check)
        resolve()
      } else if (Date.now() > deadline) {
        clearInterval(check)
        reject(new Error(`fleet bench: timed out waiting for ${what}`))
      }
    }, 10)
  })
}

/** One outage with the whole fleet; `prefix` names the one breaker they share in 'redis' mode. */
async function outage(mode, redisPort, downMs, prefix) {
  const { processes: P, threshold, recoveryMs, pauseMs } = FLEET_SETUP
  const provider = await startProvider()
  const children = []
  const okAfter = new Array(P).fill(0)
  let upAgain = false
  let recoveredAt
  const downAt = { t: 0 }
  try {
    await Promise.all(
      Array.from({ length: P }, (_, i) => {
        const child = fork(worker, [], {
          execArgv: TS_LOADER,
          env: {
            ...process.env,
            FLEET_MODE: mode,
            FLEET_PROVIDER_URL: `${provider.url}/p${i}`,
            FLEET_THRESHOLD: String(threshold),
            FLEET_RECOVERY_MS: String(recoveryMs),
            FLEET_PAUSE_MS: String(pauseMs),
            FLEET_REDIS_PORT: String(redisPort),
            FLEET_PREFIX: prefix,
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        children.push(child)
        return new Promise((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`fleet worker ${i} exited early with ${code}`)))
          child.on('message', (m) => {
            if (m.type === 'ready') resolve()
            if (m.type === 'call' && m.outcome === 'ok' && (upAgain || !provider.down)) okAfter[i]++
          })
        })
      }),
    )
    await until('a healthy fleet', () => okAfter.every((n) => n >= 3))
    provider.down = true
    downAt.t = performance.now()
    await new Promise((resolve) => setTimeout(resolve, downMs)) // the outage: real time on purpose
    okAfter.fill(0)
    upAgain = true
    provider.down = false
    const upAt = performance.now()
    await until('recovery in every process', () => okAfter.every((n) => n >= 1))
    recoveredAt = performance.now() - upAt
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            child.removeAllListeners('exit')
            if (child.exitCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.send('stop')
          }),
      ),
    )
    await provider.close()
  }
  return summarize(mode, provider.deadHits, downAt.t, recoveredAt)
}

/**
 * Splits hits into episodes: nothing reaches a dead provider for a recovery time between two
 * episodes of one breaker, so a gap of half that separates them. The first episode is the burst
 * before the breaker opened; each later one is the probing of one half-open window.
 */
function episodes(hits, recoveryMs) {
  const out = []
  let last = Number.NEGATIVE_INFINITY
  for (const t of hits) {
    if (t - last > recoveryMs / 2) out.push([])
    out.at(-1).push(t)
    last = t
  }
  return out
}

function summarize(mode, deadHits, downAt, recoveredMs) {
  const { processes: P, recoveryMs } = FLEET_SETUP
  // One breaker for the fleet ('redis'), or one per process, each seeing only its own requests.
  const breakers =
    mode === 'redis'
      ? [deadHits.map((h) => h.at)]
      : Array.from({ length: P }, (_, i) => deadHits.filter((h) => h.from === `/p${i}`).map((h) => h.at))
  const split = breakers.map((hits) => episodes(hits, recoveryMs))
  const beforeFirstProbe = split.reduce((n, e) => n + (e[0]?.length ?? 0), 0)
  const probeWindows = split.map((e) => e.slice(1))
  const probes = probeWindows.reduce((n, w) => n + w.reduce((m, x) => m + x.length, 0), 0)
  // Windows happen side by side in separate processes: per window of the fleet, count each
  // breaker's probes over the mean number of windows a breaker went through.
  const windows = probeWindows.reduce((n, w) => n + w.length, 0) / breakers.length
  const perWindow = probeWindows.flat().map((w) => w.length)
  return {
    mode,
    deadHits: deadHits.length,
    beforeFirstProbe,
    firstBurstMs: Math.max(...split.map((e) => (e[0]?.at(-1) ?? downAt) - downAt)),
    windows,
    probesPerWindow: windows > 0 ? probes / windows : Number.NaN,
    maxProbesPerBreakerWindow: perWindow.length > 0 ? Math.max(...perWindow) : 0,
    recoveredMs,
  }
}

const TODO_TABLE =
  /\| fleet leak: P processes, one shared Redis breaker[^\n]*\n\|---\|---\|\n\| requests reaching a dead provider[^\n]*TODO[^\n]*\n/

/**
 * Puts the fleet table into a report made by bench/lib/report.mjs: in place of its TODO row, or
 * before "## Reproduce" when there is none.
 */
export function withFleet(markdown, result) {
  const table = fleetTable(result).join('\n') + '\n'
  if (TODO_TABLE.test(markdown)) return markdown.replace(TODO_TABLE, () => table)
  return markdown.replace('## Reproduce', () => `${table}\n## Reproduce`)
}

/** The fleet section: setup, one row per mode, targets. */
export function fleetTable(r) {
  const { processes: P, threshold, recoveryMs, pauseMs, downMs } = r
  const ms = (x) => (x === undefined ? '—' : `${Math.round(x)} ms`)
  const row = (name, m) =>
    `| ${name} | ${m.deadHits} | ${m.beforeFirstProbe} | ${m.windows.toFixed(1)} | ${m.probesPerWindow.toFixed(2)} | ${m.maxProbesPerBreakerWindow} | ${ms(m.recoveredMs)} |`
  const { shared, separate } = r
  const sharedBound = threshold + P
  const separateExpected = P * threshold
  const verdict = (ok) => (ok ? 'met' : '**missed**')
  return [
    '### Fleet leak',
    '',
    `${P} processes (child processes running the fleet test's worker,`,
    '`test/circuit/fleet/fleet-worker.ts`), each calling a local HTTP provider one call at a time',
    `(${pauseMs} ms apart) through \`circuitGuard({ threshold: ${threshold}, recoveryMs: ${recoveryMs}, maxRecoveryMs: ${recoveryMs} })\`.`,
    `The provider answers 503 for ${downMs.toLocaleString('en-US').replace(',', ' ')} ms (real time), then 200 again. Counted at the provider, per`,
    'breaker: the requests before it opened (before its first probe), then the probes of each half-open',
    'window. "Probes per window" is the fleet-wide count: all breakers\' probes over the mean number of',
    'windows a breaker went through.',
    '',
    '| breaker | requests reaching the dead provider | before the first probe | recovery windows | probes per window | most probes in one breaker window | every process healthy again after |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('one shared Redis breaker', shared),
    row(`per-process in-memory breakers (${P})`, separate),
    '',
    '| target | measured | |',
    '|---|---:|---|',
    `| shared: before the first probe ≤ threshold + P (${sharedBound}) | ${shared.beforeFirstProbe} | ${verdict(shared.beforeFirstProbe <= sharedBound)} |`,
    `| shared: one probe per recovery window, fleet-wide | ${shared.probesPerWindow.toFixed(2)} (most in one window: ${shared.maxProbesPerBreakerWindow}) | ${verdict(shared.maxProbesPerBreakerWindow === 1)} |`,
    `| per-process: before the first probe ≈ P × threshold (${separateExpected}, ± P) | ${separate.beforeFirstProbe} | ${verdict(Math.abs(separate.beforeFirstProbe - separateExpected) <= P)} |`,
    `| per-process: ≈ P probes per recovery window (${P}, ± 1) | ${separate.probesPerWindow.toFixed(2)} | ${verdict(Math.abs(separate.probesPerWindow - P) <= 1)} |`,
    `| requests reaching the dead provider, per-process ÷ shared | ${(separate.deadHits / Math.max(1, shared.deadHits)).toFixed(1)} × | |`,
  ]
}

if (process.argv[1] === self && process.argv[2] === '--run') {
  const send = (message) => new Promise((resolve) => process.send(message, () => resolve()))
  try {
    await send({ result: await run(Number(process.argv[3])) })
  } catch (error) {
    await send({ error: error?.stack ?? String(error) })
    process.exitCode = 1
  }
  process.disconnect()
} else if (process.argv[1] === self) {
  console.log(JSON.stringify(await fleet(), null, 2))
}
