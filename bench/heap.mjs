/**
 * Heap after many guarded calls: heapUsed after a full GC at checkpoints up to 1M calls through
 * llmGuard({ timeout: false }), 32 calls in flight at a time over 8 services. Usage:
 * node --expose-gc bench/heap.mjs plain|keyed [calls] (keyed: every call a new dedupe key); prints JSON.
 */
import { llmGuard } from 'breakwater'

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

const MODE = process.argv[2] ?? 'plain'
const TOTAL = Number(process.argv[3] ?? 1_000_000)
const WAVE = 32
/** Every tenth of the calls, each a whole number of waves. */
const CHECKPOINTS = Array.from({ length: 10 }, (_, i) => Math.round((TOTAL * (i + 1)) / 10 / WAVE) * WAVE)
const SERVICES = Array.from({ length: 8 }, (_, i) => `provider:model-${i}`)
const VALUE = { ok: true }
const fn = async () => VALUE

/**
 * heapUsed after enough full GCs for V8 to have flushed the bytecode of functions no longer run
 * (start-up code ages out over several GCs): otherwise that one-time drop lands between two
 * checkpoints and reads as a change in what the guards keep.
 */
function heapAfterGc() {
  for (let i = 0; i < 8; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

async function run(keyed) {
  const guard = llmGuard({ timeout: false })
  const points = []
  const base = heapAfterGc()
  const wave = new Array(WAVE)
  for (let done = 0, next = 0; done < CHECKPOINTS[9];) {
    for (let j = 0; j < WAVE; j++, next++) {
      const service = SERVICES[next & 7]
      wave[j] = guard.execute(fn, keyed ? { service, key: `request-${next}` } : { service })
    }
    await Promise.all(wave)
    done += WAVE
    if (done === CHECKPOINTS[points.length]) points.push({ calls: done, heapUsed: heapAfterGc() })
  }
  const used = points.map((p) => p.heapUsed)
  return {
    keyed,
    base,
    // The table shows a tenth, a half and all of the calls; the spread covers all ten checkpoints.
    points: [points[0], points[4], points[9]],
    dedupeSize: guard.dedupe.size,
    depth: guard.backpressure.depth,
    growth: points.at(-1).heapUsed / points[0].heapUsed - 1,
    spread: (Math.max(...used) - Math.min(...used)) / Math.min(...used),
  }
}

// One mode per process, so one run's leftovers (code, feedback, freed maps) do not blur the other's.
console.log(JSON.stringify(await run(MODE === 'keyed')))
