/**
 * Overhead per successful call: a bare async call vs breakwater's composed guards vs cockatiel's
 * wrap(retry, circuitBreaker, bulkhead) vs opossum's fire(). Every call succeeds at once, so what
 * is measured is the cost of the resilience machinery itself.
 */
import { backpressureGuard, circuitGuard, compose, dedupeGuard, llmGuard, retryGuard } from 'breakwater'
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  wrap,
} from 'cockatiel'
import CircuitBreaker from 'opossum'
import { compareAsync, spread } from './lib/measure.mjs'

const VALUE = { ok: true }
const fn = async () => VALUE

/** The three guards of the comparison, in the order llmGuard uses them. */
function core() {
  return [
    retryGuard({ maxAttempts: 3 }),
    backpressureGuard({ hardLimit: 64 }),
    circuitGuard({ threshold: 5, recoveryMs: 30_000 }),
  ]
}

export async function overhead(options = {}) {
  const composed = compose(...core())
  const withDedupe = compose(dedupeGuard({ ttlMs: 0 }), ...core())
  // ttlMs 0 keeps nothing once a call ends, so one constant key makes every sequential call a new
  // upstream call: the full keyed path (lookup, flight, waiter, shared context), with no key built per call.
  const keyed = { key: 'request-key' }
  const preset = llmGuard({ timeout: false })
  const presetWithTimeout = llmGuard()
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    bulkhead(64),
  )
  // opossum's default 10 s timeout starts a timer per call; both settings are shown.
  const opossum = new CircuitBreaker(fn, { timeout: false })
  const opossumDefault = new CircuitBreaker(fn)

  const cases = [
    { id: 'bare', name: 'bare `async () => x`', op: () => fn() },
    {
      id: 'compose',
      name: 'breakwater compose(retry, backpressure, circuit)',
      op: () => composed.execute(fn),
    },
    {
      id: 'dedupe-pass',
      name: 'breakwater compose(dedupe, retry, backpressure, circuit), no key (pass-through)',
      op: () => withDedupe.execute(fn),
    },
    {
      id: 'dedupe-keyed',
      name: 'breakwater compose(dedupe, retry, backpressure, circuit), keyed call',
      op: () => withDedupe.execute(fn, keyed),
    },
    { id: 'llm', name: 'breakwater llmGuard({ timeout: false }), no key', op: () => preset.execute(fn) },
    {
      id: 'llm-timeout',
      name: 'breakwater llmGuard() defaults (timeouts on: a timer per call), no key',
      op: () => presetWithTimeout.execute(fn),
    },
    {
      id: 'cockatiel',
      name: 'cockatiel wrap(retry, circuitBreaker, bulkhead(64))',
      op: () => cockatiel.execute(fn),
    },
    { id: 'opossum', name: 'opossum fire(), timeout: false', op: () => opossum.fire() },
    {
      id: 'opossum-default',
      name: 'opossum fire(), default options (10 s timeout)',
      op: () => opossumDefault.fire(),
    },
  ]
  const results = await compareAsync(cases, options)
  opossum.shutdown()
  opossumDefault.shutdown()
  return results.map((r, i) => ({ ...r, id: cases[i].id, spread: spread(r.samples) }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await overhead()) console.log(r.nsPerOp.toFixed(0).padStart(7), 'ns', r.name)
}
