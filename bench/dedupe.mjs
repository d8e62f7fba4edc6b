/**
 * Dedupe: N identical concurrent calls → upstream calls, and the cost of `requestKey` on a
 * 100 kB prompt (vs the floor of hashing JSON.stringify of the same request, which is not
 * key-order independent).
 */
import { createHash } from 'node:crypto'
import { dedupeGuard, llmGuard, requestKey } from 'breakwater'
import { compareSync, median } from './lib/measure.mjs'

/** Fires `n` identical calls at once; the upstream call resolves only after all have joined. */
async function coalesce(guard, n) {
  let upstream = 0
  let open
  const gate = new Promise((resolve) => (open = resolve))
  const fn = async () => {
    upstream++
    await gate
    return { choices: [{ message: { content: 'hello' } }] }
  }
  const call = { key: requestKey({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) }
  const start = process.hrtime.bigint()
  const all = Array.from({ length: n }, () => guard.execute(fn, call))
  open()
  const results = await Promise.all(all)
  const us = Number(process.hrtime.bigint() - start) / 1e3
  const same = results.every((r) => r === results[0])
  return { upstream, us, same }
}

export async function dedupe({ n = 1_000, rounds = 9 } = {}) {
  const runs = []
  for (const [name, make] of [
    ['dedupeGuard({ ttlMs: 0 })', () => dedupeGuard({ ttlMs: 0 })],
    ['llmGuard({ timeout: false })', () => llmGuard({ timeout: false })],
  ]) {
    const samples = []
    let last
    for (let r = 0; r < rounds; r++) {
      last = await coalesce(make(), n)
      samples.push(last.us)
    }
    runs.push({ name, n, upstream: last.upstream, sameObject: last.same, usTotal: median(samples) })
  }

  const prompt = 'The quick brown fox jumps over the lazy dog. '
    .repeat(Math.ceil(100_000 / 45))
    .slice(0, 100_000)
  const request = {
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: prompt },
    ],
  }
  const [key, floor] = compareSync(
    [
      { name: 'requestKey(request, scope)', op: () => requestKey(request, 'tenant') },
      {
        name: 'sha256(JSON.stringify(request)) (floor, order-dependent)',
        op: () => createHash('sha256').update(JSON.stringify(request)).digest('hex'),
      },
    ],
    { rounds },
  )
  return {
    coalesce: runs,
    requestKey: {
      bytes: JSON.stringify(request).length,
      usPerOp: key.nsPerOp / 1e3,
      floorUsPerOp: floor.nsPerOp / 1e3,
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await dedupe(), null, 2))
