/**
 * Timing helpers shared by the benchmarks: warm-up, alternating rounds, medians.
 * Cases run in a rotated order each round so no case always runs first (JIT, GC, heat).
 */

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** Runs `n` sequential awaited calls of `op`; returns elapsed ns. */
async function batch(op, n) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await op(i)
  return Number(process.hrtime.bigint() - start)
}

/**
 * Measures async operations side by side. Each case is `{ name, op }` where `op(i)` returns a
 * promise. After `warmupMs` per case, a batch size is chosen per case so one batch lasts about
 * `batchMs`; then `rounds` rounds run every case once each, in a rotated order. Returns
 * `{ name, nsPerOp, samples }` per case (the median ns/op over rounds).
 */
export async function compareAsync(cases, { warmupMs = 300, batchMs = 40, rounds = 9 } = {}) {
  const sizes = new Map()
  for (const c of cases) {
    // Warm-up doubles the batch until it takes long enough, which also calibrates the size.
    let n = 1_000
    let spent = 0
    let ns = 0
    while (spent < warmupMs * 1e6) {
      ns = await batch(c.op, n)
      spent += ns
      if (ns < batchMs * 1e6) n *= 2
    }
    sizes.set(c, Math.max(1_000, Math.round((n * batchMs * 1e6) / Math.max(ns, 1))))
  }
  const samples = new Map(cases.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length]
      const n = sizes.get(c)
      samples.get(c).push((await batch(c.op, n)) / n)
    }
  }
  return cases.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c)), samples: samples.get(c) }))
}

/** Same as `compareAsync` for synchronous operations (e.g. hashing). */
export function compareSync(cases, { warmupMs = 200, batchMs = 40, rounds = 9 } = {}) {
  const run = (op, n) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) op(i)
    return Number(process.hrtime.bigint() - start)
  }
  const sizes = new Map()
  for (const c of cases) {
    let n = 1
    let spent = 0
    let ns = 0
    while (spent < warmupMs * 1e6) {
      ns = run(c.op, n)
      spent += ns
      if (ns < batchMs * 1e6) n *= 2
    }
    sizes.set(c, Math.max(1, Math.round((n * batchMs * 1e6) / Math.max(ns, 1))))
  }
  const samples = new Map(cases.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length]
      const n = sizes.get(c)
      samples.get(c).push(run(c.op, n) / n)
    }
  }
  return cases.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c)), samples: samples.get(c) }))
}

/** Interquartile range of samples relative to their median, for a noise column. */
export function spread(samples) {
  return (quantile(samples, 0.75) - quantile(samples, 0.25)) / median(samples)
}
