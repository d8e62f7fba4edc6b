/**
 * A short real-time workload that takes every instrumented path: healthy calls, joined and cached
 * duplicates, rate limits and an outage (retries, budget refusals, breaker open → half-open →
 * closed), bursts that cross the soft limit, shed background work, queue and fill it, and
 * background compactions that complete, fail, are refused, or are not admitted.
 */
import type { Registry } from 'prom-client'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { EventEmitter } from '../../src/core/events.js'
import { instrument } from '../../src/metrics/instrument.js'
import {
  compactionWorker,
  type AdmissionSignals,
  type CompactionSession,
  type Message,
  type Summarizer,
} from '../../src/pipeline/index.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { httpError } from '../helpers/deferred.js'

export const HEALTHY = 'openai:gpt-4o'
export const FLAKY = 'anthropic:claude'
export const BATCH = 'openai:batch'
/** A composition without a breaker: its calls are counted where they are made. */
export const EMBEDDINGS = 'openai:text-embedding-3-small'
export const FALLBACK = 'openai:gpt-4o-mini'
const TICK_MS = 100
const OUTAGE = { from: 1_200, to: 2_200 }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A conversation well over a 2 000-token trigger. */
export function longChat(): Message[] {
  const messages: Message[] = [{ id: 's', role: 'system', content: 'You are a coding agent.' }]
  for (let i = 0; i < 24; i++) {
    messages.push({ id: `u${i}`, role: 'user', content: `task ${i}: ${'please edit the file '.repeat(12)}` })
    messages.push({
      id: `a${i}`,
      role: 'assistant',
      content: `done ${i}: ${'edited the file because '.repeat(10)}`,
    })
  }
  return messages
}

export interface Scenario {
  /** Runs the workload for about `durationMs` of real time and waits for every call to settle. */
  run(durationMs: number): Promise<void>
  dispose(): Promise<void>
}

export function createScenario(registry: Registry): Scenario {
  const llm = llmGuard({
    dedupe: { ttlMs: 150 },
    retry: {
      maxAttempts: 3,
      baseDelayMs: 10,
      maxDelayMs: 40,
      budget: retryBudget({ ratio: 0.1, minPerSecond: 2 }),
    },
    backpressure: {
      hardLimit: 6,
      softLimit: 3,
      softAction: 'shed-background',
      maxQueue: 2,
      queueTimeoutMs: 40,
    },
    // Open longer than a scrape interval, so Prometheus sees it open.
    circuit: { threshold: 3, recoveryMs: 1_500, maxRecoveryMs: 1_500 },
    timeout: { attemptMs: 10_000, totalMs: 20_000 },
  })
  // A batch job allowed no retries at all: each failure is a budget refusal.
  const batch = compose(
    retryGuard({ service: BATCH, maxAttempts: 3, budget: retryBudget({ ratio: 0, minPerSecond: 0 }) }),
    circuitGuard({ service: BATCH, threshold: 1_000, recoveryMs: 1_000 }),
  )
  let summaries = 0
  const summarizer: Summarizer = {
    name: 'scripted',
    async summarize() {
      const n = summaries++
      await sleep(20 + (n % 3) * 15)
      if (n % 3 === 1) throw new Error('summarizer unavailable')
      return n % 3 === 2 ? 'far too long '.repeat(2_000) : 'The user asked for edits; every file was edited.'
    },
  }
  const signals: { -readonly [K in keyof AdmissionSignals]: AdmissionSignals[K] } = {
    memoryPressure: false,
    providerDegraded: false,
    queueSaturated: false,
  }
  const worker = compactionWorker({
    summarizer,
    fallback: false,
    policy: { contextWindow: 4_000, triggerTokens: 2_000 },
    quota: { cooldownMs: 0 },
    signals: { read: () => ({ ...signals }) },
  })
  // Embeddings through retry alone: no breaker, so calls_total counts each call once.
  const embeddings = compose(retryGuard({ service: EMBEDDINGS, maxAttempts: 2, baseDelayMs: 5 }))
  const rateLimit = scriptedRateLimit()
  const metrics = instrument(registry, llm, batch, embeddings, worker, rateLimit, {
    services: [HEALTHY, FLAKY],
  })
  const pending: Promise<unknown>[] = []
  const sessions: CompactionSession[] = []
  const track = (p: Promise<unknown>): void => {
    pending.push(p.catch(() => undefined))
  }

  function tick(t: number, elapsed: number): void {
    // Healthy traffic with duplicates: two identical calls join; the same key a tick later is cached.
    const key = `prompt-${Math.floor(t / 2) % 3}`
    for (let i = 0; i < 2; i++)
      track(llm.execute(() => sleep(5 + i * 10).then(() => 'ok'), { service: HEALTHY, key }))
    track(llm.execute(() => sleep(15).then(() => 'ok'), { service: HEALTHY }))
    // A rate limit now and then: retried once, ignored by the breaker.
    if (t % 4 === 0) {
      let first = true
      track(
        llm.execute(
          () => {
            if (!first) return 'ok'
            first = false
            throw httpError(429)
          },
          { service: HEALTHY },
        ),
      )
    }
    // The flaky provider: down during the outage window, fine before and after.
    const down = elapsed >= OUTAGE.from && elapsed < OUTAGE.to
    for (let i = 0; i < 2; i++) {
      track(
        llm.execute(() => sleep(10).then(() => (down ? Promise.reject(httpError(503)) : 'ok')), {
          service: FLAKY,
        }),
      )
    }
    if (down) track(batch.execute(() => Promise.reject(httpError(502))))
    track(embeddings.execute(() => sleep(5).then(() => [0.1, 0.2])))
    // What the provider wrappers report for each answer, and a fallback now and then.
    metrics.onResponse({
      service: HEALTHY,
      usage: { inputTokens: 300 + (t % 7) * 50, outputTokens: 40 + (t % 5) * 20 },
      timeToFirstContentMs: 150 + (t % 4) * 200,
    })
    if (down) metrics.onFallback({ from: FLAKY, to: FALLBACK })
    // A provider budget too small for the demand: long waits and refusals.
    rateLimit.wait({ service: HEALTHY, waitMs: 6_000 + (t % 3) * 2_000 })
    if (t % 2 === 0) rateLimit.refuse({ service: HEALTHY, limit: 'tokens' })
    // A burst over the soft and hard limits: background work is shed, the rest queues or is shed.
    if (t % 3 === 1) {
      for (let i = 0; i < 10; i++) {
        track(
          llm.execute(() => sleep(60).then(() => 'ok'), {
            service: HEALTHY,
            priority: i % 2 === 0 ? 'background' : 'foreground',
          }),
        )
      }
    }
    // Background compaction: every run's outcome in turn, a pending duplicate, a degraded provider.
    if (t % 5 === 2) {
      const n = Math.floor(t / 5)
      signals.providerDegraded = n % 4 === 3
      const session = worker.session(`session-${n}`)
      sessions.push(session)
      track(session.endTurn(longChat()))
      track(session.endTurn(longChat()))
    }
  }

  return {
    async run(durationMs) {
      const started = Date.now()
      // One long call (a slow generation) keeps a slot for the whole run: every scrape sees it in flight.
      track(llm.execute(() => sleep(durationMs - 300).then(() => 'ok'), { service: HEALTHY }))
      for (let t = 0; Date.now() - started < durationMs; t++) {
        tick(t, Date.now() - started)
        await sleep(TICK_MS)
      }
      // Recovery: the flaky provider is healthy again; calls until its breaker has closed.
      for (let i = 0; i < 40 && (await llm.circuit!.state(FLAKY)) !== 'closed'; i++) {
        track(llm.execute(() => 'ok', { service: FLAKY }))
        await sleep(50)
      }
      await Promise.all(pending)
      await Promise.all(sessions.map((s) => s.idle()))
    },
    async dispose() {
      metrics.dispose()
      await worker.dispose()
    },
  }
}

/**
 * A rate limit as DESIGN L5 describes it (`onWait { service, waitMs }`, `onLimited { service,
 * limit }`, `remaining()`), driven by the script; instrument() recognises it by shape.
 */
function scriptedRateLimit() {
  const waits = new EventEmitter<{ service: string; waitMs: number }>()
  const limits = new EventEmitter<{ service: string; limit: string }>()
  let left = 1_000
  return {
    service: HEALTHY,
    onWait: waits.addListener,
    onLimited: limits.addListener,
    remaining: (service: string) =>
      Promise.resolve(
        service === HEALTHY
          ? { requests: 10, tokens: (left = Math.max(0, left - 50)), resetMs: 1_000 }
          : { resetMs: 0 },
      ),
    wait: (e: { service: string; waitMs: number }) => waits.emit(e),
    refuse: (e: { service: string; limit: string }) => limits.emit(e),
  }
}
