/**
 * Redis faults under a fleet (DESIGN.md D5, D7): a fleet of P processes (the fleet tests' worker,
 * test/circuit/fleet/fleet-worker.ts) on one shared breaker in a real Redis Cluster of 3 masters +
 * 3 replicas, each calling a local HTTP provider one call at a time. Two scenarios, with the
 * backend's default options (recoveryCheckMs, subscriptionCheckMs 1 000 ms):
 *
 * - CLUSTER FAILOVER of the master that owns the breaker, then an isolate() in one process and a
 *   reset() — how long until every other process refuses, and then admits again (a stale refusal);
 * - kill -9 of the owning master while the provider is down — requests that reach the dead
 *   provider (per window of recoveryMs, per phase), the time the fleet spends on its fallback, and
 *   how long a process still refuses after the breaker closed elsewhere once the provider is back.
 *
 * The processes and the Cluster are the test helpers (TypeScript, importing sources), so the run
 * happens in a child process started with their TS loader, like bench/fleet.mjs; the bench process
 * only reads the results. Bounded: about 30 s.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const register = fileURLToPath(new URL('../test/helpers/register-ts.mjs', import.meta.url))
const TS_LOADER = ['--experimental-transform-types', '--no-warnings', '--import', register]

/** The setup reported with the results. */
export const FAULTS_SETUP = {
  processes: 4,
  threshold: 3,
  recoveryMs: 200,
  pauseMs: 5,
  downAfterReturnMs: 1_000,
}

/** Runs both scenarios in a child process; resolves with their figures. */
export function redisFaults() {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--run'], {
      execArgv: TS_LOADER,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let answer
    child.on('message', (m) => (answer = m))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (answer?.result !== undefined) resolve(answer.result)
      else reject(new Error(`redis faults bench: run failed (exit ${code}): ${answer?.error ?? 'no result'}`))
    })
  })
}

async function run() {
  const { startRedisCluster } = await import('../test/helpers/redis-cluster.ts')
  const { startFleet, startProvider } = await import('../test/circuit/fleet/fleet-harness.ts')
  const { testPrefix } = await import('../test/helpers/redis-server.ts')
  const { breakerKey } = await import('../src/circuit/backends/redis/redis-keys.ts')
  const cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1_500 })
  const { processes: P, threshold, recoveryMs, pauseMs } = FAULTS_SETUP
  const fleetOf = async (provider, prefix) =>
    startFleet({
      processes: P,
      provider,
      threshold,
      recoveryMs,
      pauseMs,
      prefix,
      redis: { clusterPorts: cluster.startupNodes.map((n) => n.port) },
    })
  try {
    return {
      failover: await failoverScenario(
        cluster,
        fleetOf,
        startProvider,
        breakerKey,
        testPrefix('bench-failover'),
      ),
      kill: await killScenario(cluster, fleetOf, startProvider, breakerKey, testPrefix('bench-kill')),
      ...FAULTS_SETUP,
    }
  } finally {
    await cluster.stop()
  }
}

const workers = () => Array.from({ length: FAULTS_SETUP.processes }, (_, i) => i)
/** When worker `i` first had a call with `outcome` after `t` (parent clock), or undefined. */
const firstAfter = (fleet, i, t, outcome) =>
  fleet.calls.find((c) => c.worker === i && c.at > t && c.outcome === outcome)?.at
const fallbacks = (fleet) => fleet.logs.filter((l) => l.line.includes('unusable')).length

async function failoverScenario(cluster, fleetOf, startProvider, breakerKey, prefix) {
  const provider = await startProvider()
  const fleet = await fleetOf(provider, prefix)
  try {
    await fleet.until('a healthy fleet', () =>
      workers().every((i) => firstAfter(fleet, i, 0, 'ok') !== undefined),
    )
    const master = await cluster.masterOf(breakerKey(prefix, 'provider'))
    await cluster.failover(await cluster.replicaOf(master))
    const failedOverAt = performance.now()
    const isolatedAt = performance.now() // from when it is asked: its own round trip included
    await fleet.ask(0, { type: 'isolate' }, 'done')
    const others = workers().slice(1)
    await fleet.until('the isolation everywhere', () =>
      others.every((i) => firstAfter(fleet, i, isolatedAt, 'rejected') !== undefined),
    )
    const resetAt = performance.now()
    await fleet.ask(0, { type: 'reset' }, 'done')
    await fleet.until('calls everywhere after the reset', () =>
      workers().every((i) => firstAfter(fleet, i, resetAt, 'ok') !== undefined),
    )
    return {
      isolateReachedMs: Math.max(
        ...others.map((i) => firstAfter(fleet, i, isolatedAt, 'rejected') - isolatedAt),
      ),
      staleRefusalMs: Math.max(...workers().map((i) => firstAfter(fleet, i, resetAt, 'ok') - resetAt)),
      sinceFailoverMs: isolatedAt - failedOverAt,
      fallbacks: fallbacks(fleet),
      subscriptionLosses: fleet.logs.filter((l) => l.line.includes('subscriptions')).length,
    }
  } finally {
    await fleet.stop()
    await provider.close()
  }
}

async function killScenario(cluster, fleetOf, startProvider, breakerKey, prefix) {
  const { recoveryMs, threshold, processes: P, downAfterReturnMs } = FAULTS_SETUP
  const provider = await startProvider()
  const fleet = await fleetOf(provider, prefix)
  const key = breakerKey(prefix, 'provider')
  let killed
  const marks = {}
  try {
    await fleet.until('a healthy fleet', () =>
      workers().every((i) => firstAfter(fleet, i, 0, 'ok') !== undefined),
    )
    provider.down = true
    marks.down = performance.now()
    await fleet.until('every process refusing', () =>
      workers().every((i) => firstAfter(fleet, i, marks.down, 'rejected') !== undefined),
    )
    marks.open = performance.now()
    // A few recovery windows on the healthy Cluster first: the shared breaker's own figure.
    await new Promise((resolve) => setTimeout(resolve, 3 * recoveryMs))
    killed = await cluster.masterOf(key)
    marks.kill = performance.now()
    await killed.kill()
    await cluster.settled(key, killed)
    marks.promoted = performance.now()
    const status = () => fleet.askAll({ type: 'status' }, 'status')
    for (;;) {
      if ((await status()).every((s) => s.backend === 'redis')) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    marks.back = performance.now()
    await new Promise((resolve) => setTimeout(resolve, downAfterReturnMs))
    provider.down = false
    marks.up = performance.now()
    await fleet.until('recovery everywhere', () =>
      workers().every((i) => firstAfter(fleet, i, marks.up, 'ok') !== undefined),
    )
  } finally {
    await fleet.stop()
    await provider.close()
    await killed?.restart()
  }
  const hits = provider.deadHits.map((h) => h.at)
  const inPhase = (from, to) => hits.filter((t) => t >= from && t < to)
  const perWindow = (from, to) => inPhase(from, to).length / Math.max(1, (to - from) / recoveryMs)
  const closedAt = Math.min(...workers().map((i) => firstAfter(fleet, i, marks.up, 'ok')))
  return {
    deadHits: hits.length,
    mostInOneWindow: Math.max(0, ...hits.map((t) => hits.filter((u) => u >= t && u < t + recoveryMs).length)),
    bound: threshold + P + 1,
    beforeOpen: inPhase(marks.down, marks.open).length,
    perWindowBeforeKill: perWindow(marks.open, marks.kill),
    whileFailingOver: inPhase(marks.kill, marks.back).length,
    perWindowWhileFailingOver: perWindow(marks.kill, marks.back),
    afterReturn: inPhase(marks.back, marks.up).length,
    perWindowAfterReturn: perWindow(marks.back, marks.up),
    promotedMs: marks.promoted - marks.kill,
    fallbackMs: marks.back - marks.kill,
    staleRefusalMs: Math.max(...workers().map((i) => firstAfter(fleet, i, closedAt - 1e-6, 'ok') - closedAt)),
    fallbacks: fallbacks(fleet),
    returns: fleet.logs.filter((l) => l.line.includes('reachable again')).length,
    callerErrors: fleet.calls.filter((c) => c.outcome === 'error').length,
  }
}

/** Puts the section into a report: before "## Reproduce". */
export function withRedisFaults(markdown, result) {
  const section = redisFaultsSection(result).join('\n') + '\n'
  return markdown.replace('## Reproduce', () => `${section}\n## Reproduce`)
}

/** The section: setup, the two scenarios, targets. */
export function redisFaultsSection(r) {
  const { processes: P, threshold, recoveryMs, pauseMs, downAfterReturnMs, failover: f, kill: k } = r
  const ms = (x) => `${Math.round(x)} ms`
  const verdict = (ok) => (ok ? 'met' : '**missed**')
  return [
    '### Redis faults: Cluster failover, owning master killed',
    '',
    `${P} processes (the fleet test's worker) share one breaker in a Redis Cluster of 3 masters + 3`,
    `replicas (\`cluster-node-timeout\` 1 500 ms), each calling a local HTTP provider one call at a time`,
    `(${pauseMs} ms apart) through \`circuitGuard({ threshold: ${threshold}, recoveryMs: ${recoveryMs}, maxRecoveryMs: ${recoveryMs} })\`,`,
    "with the backend's default options. Times are measured in the parent from the calls the processes",
    `report, so they include up to one call (${pauseMs} ms + a round trip) of sampling.`,
    '',
    '`CLUSTER FAILOVER` of the owning master, then `isolate()` in one process, then `reset()`:',
    '',
    '| | measured |',
    '|---|---:|',
    `| isolate() → every other process refuses | ${ms(f.isolateReachedMs)} |`,
    `| reset() → every process admits again (longest stale refusal) | ${ms(f.staleRefusalMs)} |`,
    `| subscriptions lost and made again (log lines, fleet-wide) | ${f.subscriptionLosses} |`,
    `| switches to the fallback | ${f.fallbacks} |`,
    '',
    `\`kill -9\` of the owning master while the provider answers 503; its replica takes over; the provider stays`,
    `down ${downAfterReturnMs.toLocaleString('en-US').replace(',', ' ')} ms more after every process is back on Redis, then answers again:`,
    '',
    '| | measured |',
    '|---|---:|',
    `| requests reaching the dead provider | ${k.deadHits} |`,
    `| most in any window of recoveryMs | ${k.mostInOneWindow} |`,
    `| before the breaker opened everywhere | ${k.beforeOpen} |`,
    `| per window once open, before the kill (the shared breaker's probe) | ${k.perWindowBeforeKill.toFixed(2)} |`,
    `| per window from the kill until every process is back on Redis (local breakers) | ${k.perWindowWhileFailingOver.toFixed(2)} |`,
    `| per window after the return | ${k.perWindowAfterReturn.toFixed(2)} |`,
    `| replica promoted after the kill | ${ms(k.promotedMs)} |`,
    `| kill → every process back on Redis | ${ms(k.fallbackMs)} |`,
    `| breaker closed in one process → every process admits (longest stale refusal) | ${ms(k.staleRefusalMs)} |`,
    `| fallback / return log lines (fleet-wide) | ${k.fallbacks} / ${k.returns} |`,
    `| caller errors (anything but the provider's 503 or BrokenCircuitError) | ${k.callerErrors} |`,
    '',
    '| target | measured | |',
    '|---|---:|---|',
    `| after a failover, a state change reaches every process within 1 s | ${ms(f.isolateReachedMs)} | ${verdict(f.isolateReachedMs <= 1_000)} |`,
    `| no process refuses more than 1 s after the breaker closed elsewhere (failover) | ${ms(f.staleRefusalMs)} | ${verdict(f.staleRefusalMs <= 1_000)} |`,
    `| … (master killed) | ${ms(k.staleRefusalMs)} | ${verdict(k.staleRefusalMs <= 1_000)} |`,
    `| master killed: at most threshold + P + 1 (${k.bound}) requests per window | ${k.mostInOneWindow} | ${verdict(k.mostInOneWindow <= k.bound)} |`,
    `| one log line per transition: as many returns as fallbacks, at most one each per process | ${k.fallbacks} / ${k.returns} | ${verdict(k.fallbacks === k.returns && k.fallbacks <= P)} |`,
    `| caller errors | ${k.callerErrors} | ${verdict(k.callerErrors === 0)} |`,
  ]
}

if (process.argv[1] === self && process.argv[2] === '--run') {
  const send = (message) => new Promise((resolve) => process.send(message, () => resolve()))
  try {
    await send({ result: await run() })
  } catch (error) {
    await send({ error: error?.stack ?? String(error) })
    process.exitCode = 1
  }
  process.disconnect()
} else if (process.argv[1] === self) {
  const result = await redisFaults()
  console.log(JSON.stringify(result, null, 2))
  console.log(redisFaultsSection(result).join('\n'))
}
