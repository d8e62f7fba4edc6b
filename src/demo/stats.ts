import { classifyError, type CompactionWorker, type LlmGuard, type Priority } from '../index.js'
import { BUDGET_PHASE, BURST_PHASE } from './scenario.js'

export type BreakerState = 'closed' | 'open' | 'half-open'

/** Running totals of one process (a fleet's parent adds its workers' up). */
export interface Counters {
  /** Model calls the agents made (turns, background titles, shared questions). */
  calls: number
  ok: number
  failed: number
  /** Of `failed`, the calls backpressure shed (deliberate load shedding, not an error). */
  failedShed: number
  /** Calls the run's end aborted: neither ok nor failed. */
  aborted: number
  /** Retries the retry guard slept before (`onRetry`). */
  retries: number
  /** Waits for a provider's cooldown to end (`onCooldownWait`): no attempt spent, nothing sent. */
  cooldownWaits: number
  /** Foreground calls started during the 429 burst, and how many of those failed. */
  burstCalls: number
  burstFailed: number
  /** Calls that waited for the provider's budget before they went (`onWait`), and the ms they waited. */
  waits: number
  waitedMs: number
  /** Foreground calls started during the rate-limit act, and how many of those failed. */
  budgetCalls: number
  budgetFailed: number
  /** Foreground calls backpressure shed during the rate-limit act. */
  budgetShedForeground: number
  /** Of `budgetFailed`, those that ended with the provider's 429 (a rate limit that reached the caller). */
  budget429s: number
  /** Calls shed by backpressure, and how many of them were background work. */
  shed: number
  shedBackground: number
  /** Callers that joined an identical call already in flight (`onDedupe` 'joined'). */
  joins: number
  /** Compactions applied-ready, by the summarizer that wrote them. */
  compactions: number
  compactionsLlm: number
  compactionsExtractive: number
  compactionsFailed: number
}

export interface Transition {
  service: string
  from: BreakerState
  to: BreakerState
  /** ms since the scenario started. */
  atMs: number
}

/** What the per-second table reads: totals so far and the state right now. */
export interface StatsSnapshot {
  counters: Counters
  inFlight: number
  queued: number
  states: Record<string, BreakerState>
  transitions: Transition[]
}

export const zeroCounters = (): Counters => ({
  calls: 0,
  ok: 0,
  failed: 0,
  failedShed: 0,
  aborted: 0,
  retries: 0,
  cooldownWaits: 0,
  burstCalls: 0,
  burstFailed: 0,
  waits: 0,
  waitedMs: 0,
  budgetCalls: 0,
  budgetFailed: 0,
  budgetShedForeground: 0,
  budget429s: 0,
  shed: 0,
  shedBackground: 0,
  joins: 0,
  compactions: 0,
  compactionsLlm: 0,
  compactionsExtractive: 0,
  compactionsFailed: 0,
})

/** Counts what the guards and the compaction worker report, and what the agents see. */
export class DemoStats {
  readonly counters = zeroCounters()
  /** Duration of every successful call, in ms (for p50 / p95). */
  readonly latenciesMs: number[] = []
  readonly transitions: Transition[] = []
  /** Failed calls by `classifyError` reason (circuit_open, shed, server_error…). */
  readonly failures: Record<string, number> = {}
  /** When the scenario started (Date.now()); transitions are timed from here. */
  startMs = Date.now()
  private readonly states: Record<string, BreakerState> = {}

  /** `phaseAt`: the act running so many ms after the start (the scenario's). */
  constructor(
    services: readonly string[],
    private readonly phaseAt: (elapsedMs: number) => string = () => '',
  ) {
    for (const s of services) this.states[s] = 'closed'
  }

  private phaseNow(): string {
    return this.phaseAt(Date.now() - this.startMs)
  }

  /** Subscribes to the guard's layers and the worker; returns the unsubscribe. */
  watch(guard: LlmGuard, worker: CompactionWorker): () => void {
    const c = this.counters
    const subscriptions = [
      guard.retry?.onRetry(() => c.retries++),
      guard.retry?.onCooldownWait(() => c.cooldownWaits++),
      guard.rateLimit?.onWait((e) => {
        c.waits++
        c.waitedMs += e.waitMs
      }),
      guard.backpressure?.onShed((e) => {
        c.shed++
        if (e.priority === 'background') c.shedBackground++
        else if (this.phaseNow() === BUDGET_PHASE) c.budgetShedForeground++
      }),
      guard.dedupe?.onDedupe((e) => {
        if (e.result === 'joined') c.joins++
      }),
      guard.circuit?.onStateChange((e) => {
        this.states[e.service] = e.to
        this.transitions.push({ service: e.service, from: e.from, to: e.to, atMs: Date.now() - this.startMs })
      }),
      worker.onCompleted((e) => {
        c.compactions++
        if (e.summarizer === 'primary') c.compactionsLlm++
        else c.compactionsExtractive++
      }),
      worker.onFailed(() => c.compactionsFailed++),
    ]
    return () => subscriptions.forEach((s) => s?.dispose())
  }

  /** Times one agent call and files its outcome, by the act it started in. */
  async track<T>(call: () => Promise<T>, ended: AbortSignal, priority: Priority = 'foreground'): Promise<T> {
    const started = performance.now()
    const phase = priority === 'foreground' ? this.phaseNow() : undefined
    const inBurst = phase === BURST_PHASE
    const inBudget = phase === BUDGET_PHASE
    this.counters.calls++
    if (inBurst) this.counters.burstCalls++
    if (inBudget) this.counters.budgetCalls++
    try {
      const value = await call()
      this.counters.ok++
      this.latenciesMs.push(performance.now() - started)
      return value
    } catch (error) {
      if (ended.aborted) this.counters.aborted++
      else {
        this.counters.failed++
        if (inBurst) this.counters.burstFailed++
        const reason = classifyError(error).reason
        if (inBudget) {
          this.counters.budgetFailed++
          if (reason === 'rate_limited') this.counters.budget429s++
        }
        this.failures[reason] = (this.failures[reason] ?? 0) + 1
        if (reason === 'shed') this.counters.failedShed++
      }
      throw error
    }
  }

  snapshot(guard: LlmGuard): StatsSnapshot {
    return {
      counters: { ...this.counters },
      inFlight: guard.backpressure?.depth ?? 0,
      queued: guard.backpressure?.queued ?? 0,
      states: { ...this.states },
      transitions: [...this.transitions],
    }
  }
}

/** Nearest-rank percentile of unsorted samples (0 when there are none). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
