/**
 * Runs one overhead case in a tight loop, for `node --cpu-prof bench/profile.mjs <case>`.
 * Cases: compose, dedupe-pass, dedupe-keyed, llm, llm-timeout, cockatiel.
 */
import { backpressureGuard, circuitGuard, compose, dedupeGuard, llmGuard, retryGuard } from 'breakwater'
import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, retry, wrap } from 'cockatiel'

const VALUE = { ok: true }
const fn = async () => VALUE
const core = () => [
  retryGuard({ maxAttempts: 3 }),
  backpressureGuard({ hardLimit: 64 }),
  circuitGuard({ threshold: 5, recoveryMs: 30_000 }),
]
const which = process.argv[2] ?? 'compose'
const seconds = Number(process.argv[3] ?? 3)
const guards = {
  compose: () => compose(...core()),
  'dedupe-pass': () => compose(dedupeGuard({ ttlMs: 0 }), ...core()),
  'dedupe-keyed': () => compose(dedupeGuard({ ttlMs: 0 }), ...core()),
  llm: () => llmGuard({ timeout: false }),
  'llm-timeout': () => llmGuard(),
  cockatiel: () =>
    wrap(
      retry(handleAll, { maxAttempts: 3 }),
      circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
      bulkhead(64),
    ),
}
const guard = guards[which]()
const call = which === 'dedupe-keyed' ? { key: 'k' } : undefined
const end = Date.now() + seconds * 1000
let n = 0
while (Date.now() < end) {
  for (let i = 0; i < 10_000; i++) await guard.execute(fn, call)
  n += 10_000
}
console.log(`${which}: ${((seconds * 1e9) / n).toFixed(0)} ns/op (${n} calls)`)
