/**
 * `npm run bench`: every benchmark in one bounded run (a few minutes at most), results written to
 * BENCHMARKS.md. Runs against the built package (dist/, imported as 'breakwater'); build first.
 * Options: --quick (fewer rounds, shorter scenarios, for checking the harness), --out <file>.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { burst, withBurst } from './burst.mjs'
import { compaction, withCompaction } from './compaction.mjs'
import { dedupe } from './dedupe.mjs'
import { fleet, withFleet } from './fleet.mjs'
import { environment } from './lib/environment.mjs'
import { report } from './lib/report.mjs'
import { latency, LATENCY_SETUP } from './latency.mjs'
import { overhead } from './overhead.mjs'
import { ratelimitFleet, withRatelimitFleet } from './ratelimit-fleet.mjs'
import { redisFaults, withRedisFaults } from './redis-faults.mjs'
import { startRedis } from './redis.mjs'
import { streams, withStreams } from './streams.mjs'
import { tracingOverhead, tracingSection } from './tracing.mjs'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const outIndex = args.indexOf('--out')
const outFile = outIndex >= 0 ? args[outIndex + 1] : new URL('../BENCHMARKS.md', import.meta.url)
const started = Date.now()
const log = (message) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`)

const env = environment()
log(`Node ${env.node}, ${env.cpus} CPUs, load ${env.loadAverage}`)

log('overhead per successful call')
const over = await overhead(quick ? { rounds: 5, batchMs: 20, warmupMs: 150 } : { rounds: 21, batchMs: 50 })
const byId = Object.fromEntries(over.map((r) => [r.id, r.nsPerOp]))
const composeOver = byId.compose - byId.bare
const targets = [
  {
    name: 'compose(retry, backpressure, circuit) / cockatiel ≤ 1.0 (aim ≤ 0.6)',
    measured: (byId.compose / byId.cockatiel).toFixed(2),
    ok: byId.compose / byId.cockatiel <= 1,
  },
  {
    name: 'compose(retry, backpressure, circuit) over bare ≤ 250 ns',
    measured: `${Math.round(composeOver)} ns`,
    ok: composeOver <= 250,
  },
  {
    name: '+ dedupe, no key: over bare ≤ 1.5 × the compose overhead',
    measured: `${Math.round(byId['dedupe-pass'] - byId.bare)} ns (${((byId['dedupe-pass'] - byId.bare) / composeOver).toFixed(2)} ×)`,
    ok: byId['dedupe-pass'] - byId.bare <= 1.5 * composeOver,
  },
  {
    name: '+ dedupe, keyed call: over bare ≤ 1.5 × the compose overhead',
    measured: `${Math.round(byId['dedupe-keyed'] - byId.bare)} ns (${((byId['dedupe-keyed'] - byId.bare) / composeOver).toFixed(2)} ×)`,
    ok: byId['dedupe-keyed'] - byId.bare <= 1.5 * composeOver,
  },
]
for (const r of over) log(`  ${Math.round(r.nsPerOp).toString().padStart(6)} ns  ${r.name}`)

log('tracing overhead (OpenTelemetry)')
const tracing = await tracingOverhead(
  quick ? { rounds: 5, batchMs: 20, warmupMs: 150 } : { rounds: 11, batchMs: 50 },
)

log('dedupe')
const dd = await dedupe({ rounds: quick ? 3 : 9 })

log('heap after 1M calls (child processes with --expose-gc)')
const calls = quick ? 200_000 : 1_000_000
const heap = ['plain', 'keyed'].map((mode) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      ['--expose-gc', new URL('./heap.mjs', import.meta.url).pathname, mode, String(calls)],
      {
        encoding: 'utf8',
      },
    ),
  ),
)

log('foreground latency under background load')
const lat = await latency({ durationMs: quick ? 500 : 3_000 })

let redis
try {
  const { redisBench } = await import('./redis.mjs')
  log('redis breaker')
  redis = await redisBench({ quick })
} catch (error) {
  // Only a missing backend (not yet built) leaves the TODO rows; any other failure is reported.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
  log(`redis breaker: not available (${error.message}), leaving a TODO row`)
}

log('fleet leak (child processes, shared Redis breaker vs per-process breakers)')
const fleetResult = await fleet({ downMs: quick ? 1_100 : 2_000 })
for (const m of [fleetResult.shared, fleetResult.separate]) {
  log(
    `  ${m.mode}: ${m.deadHits} dead hits, ${m.beforeFirstProbe} before the first probe, ${m.probesPerWindow.toFixed(2)} probes per window`,
  )
}

log('429 burst and outage through llmGuard (in memory, and 4 processes on one Redis breaker)')
const burstRedis = await startRedis()
let burstResult
try {
  burstResult = await burst({ sizes: quick ? [10, 100] : [10, 100, 1_000], redisPort: burstRedis.port })
} finally {
  await burstRedis.stop()
}
for (const r of burstResult.rows) {
  log(
    `  ${r.mode} N=${r.n}: ${r.ok}/${r.n} ok, ${r.requests} requests, drained in ${Math.round(r.drainMs)} ms`,
  )
}

log(
  "rate limit across a fleet (4 processes against the fake provider's budget: one Redis budget, per-process shares, none)",
)
const ratelimitResult = await ratelimitFleet({ quick })
for (const r of ratelimitResult.rows) {
  log(
    `  ${r.mode}: ${r.requests} requests, ${(r.limitedShare * 100).toFixed(1)} % answered 429, ${(r.budgetUsed * 100).toFixed(1)} % of the budget used, ${r.failed} caller errors`,
  )
}

log('compaction scenarios (tool-heavy and CJK agent sessions, slow summarizer)')
const compactionResult = await compaction({ quick })
for (const s of compactionResult.sessions) {
  log(
    `  ${s.kind}: largest request ${s.peakReal} of ${compactionResult.window} (o200k), ${s.background + s.foreground} compactions, ${s.summarizerCalls} summarizer calls, max loop delay ${s.maxLoopDelayMs.toFixed(1)} ms`,
  )
}

log('streams: CPU per chunk, wrapped vs raw SDK (fake provider in a child process)')
const streamResult = await streams({ quick })
for (const r of streamResult.results) {
  log(`  ${r.api}: raw ${r.raw.toFixed(2)} µs, wrapped ${r.wrapped.toFixed(2)} µs per chunk`)
}

log('redis faults (3 + 3 Cluster: failover, owning master killed; fleet of 4 processes)')
const faults = await redisFaults()
log(
  `  failover: isolate reached every process in ${Math.round(faults.failover.isolateReachedMs)} ms; master killed: ${faults.kill.deadHits} dead hits, at most ${faults.kill.mostInOneWindow} per window`,
)

const seconds = (Date.now() - started) / 1000
let markdown = report({
  env,
  overhead: over,
  targets,
  dedupe: dd,
  heap,
  latency: lat,
  latencySetup: LATENCY_SETUP,
  redis,
  command: 'npm run bench   # = npm run build && node bench/run.mjs',
  seconds,
})
markdown = withFleet(markdown, fleetResult)
markdown = withRedisFaults(markdown, faults)
markdown = withBurst(markdown, burstResult)
markdown = withRatelimitFleet(markdown, ratelimitResult)
markdown = markdown.replace('## Reproduce', () => `${tracingSection(tracing).join('\n')}\n## Reproduce`)
markdown = withCompaction(markdown, compactionResult)
markdown = withStreams(markdown, streamResult)
writeFileSync(outFile, markdown)
log(`wrote ${outFile instanceof URL ? outFile.pathname : outFile}`)
