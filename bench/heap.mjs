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
/** A tenth, a half and all of the calls, each a whole number of waves. */
const CHECKPOINTS = [TOTAL / 10, TOTAL / 2, TOTAL].map((n) => Math.round(n / WAVE) * WAVE)
const SERVICES = Array.from({ length: 8 }, (_, i) => `provider:model-${i}`)
const VALUE = { ok: true }
const fn = async () => VALUE

function heapAfterGc() {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

async function run(keyed) {
  const guard = llmGuard({ timeout: false })
  const points = []
  const base = heapAfterGc()
  const wave = new Array(WAVE)
  for (let done = 0, next = 0; done < CHECKPOINTS[2];) {
    for (let j = 0; j < WAVE; j++, next++) {
      const service = SERVICES[next & 7]
      wave[j] = guard.execute(fn, keyed ? { service, key: `request-${next}` } : { service })
    }
    await Promise.all(wave)
    done += WAVE
    if (done === CHECKPOINTS[points.length]) points.push({ calls: done, heapUsed: heapAfterGc() })
  }
  return {
    keyed,
    base,
    points,
    dedupeSize: guard.dedupe.size,
    depth: guard.backpressure.depth,
    growth: points.at(-1).heapUsed / points[0].heapUsed - 1,
  }
}

// One mode per process, so one run's leftovers (code, feedback, freed maps) do not blur the other's.
console.log(JSON.stringify(await run(MODE === 'keyed')))
