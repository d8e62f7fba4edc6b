import { randomUUID } from 'node:crypto'
import { linkedController } from '../core/abort.js'
import { setTimer, systemClock, type Clock } from '../core/clock.js'
import { TimeoutError } from '../core/errors/timeout-error.js'
import { optionalFunction, optionalString, requireOptions } from '../core/validate.js'
import type { AdmissionEvidence } from './admission-evidence.js'
import {
  decideAdmission,
  findSignalGuards,
  guardSignals,
  type AdmissionDecision,
  type AdmissionSignalSource,
} from './admission.js'
import { applyCompaction } from './apply-compaction.js'
import { AlreadyRunningError, isCompactionRefusedError } from './compaction-errors.js'
import { resolvePolicy, type ResolvedCompactionPolicy } from './compaction-policy.js'
import { resolveQuota, type ResolvedQuota } from './compaction-quota.js'
import { compactionPipeline, type CompactionResult } from './compaction-run.js'
import { CompactionSession, type SessionHost } from './compaction-session.js'
import { InMemoryCompactionStore, type CompactionStore } from './compaction-store.js'
import { validateWorkerOptions, type CompactionWorkerOptions } from './compaction-worker-options.js'
import { requireMessages, type Message } from './message.js'
import type { Pipeline } from './pipeline.js'
import { planCompaction, type CompactionPlan } from './plan-compaction.js'
import { isStageError } from './stage-error.js'
import { estimateTotal } from './tokens.js'
import type * as E from './worker-events.js'
import { failureOf, WorkerTelemetry } from './worker-telemetry.js'

const OWNER = 'compactionWorker'
type Outcome = { ok: true; result: CompactionResult } | { ok: false; error: unknown }

/** Runs compactions in the background, one at a time per session, within a quota (P5–P10). */
export class CompactionWorker implements SessionHost {
  readonly policy: ResolvedCompactionPolicy
  readonly quota: ResolvedQuota
  readonly store: CompactionStore
  private readonly clock: Clock
  private readonly signals: AdmissionSignalSource
  private readonly run: Pipeline<CompactionPlan, CompactionResult>
  private readonly sessions = new Map<string, CompactionSession>()
  private readonly shutdown = new AbortController()
  private readonly telemetry = new WorkerTelemetry()
  /** A run began. */
  readonly onStarted = this.telemetry.onStarted
  /** A run produced a verified summary (`compaction_runs_total{outcome="completed"}`). */
  readonly onCompleted = this.telemetry.onCompleted
  /** A run failed: error, timeout, abort or malformed result (P7). */
  readonly onFailed = this.telemetry.onFailed
  /** A result was refused: not below 0.8 × trigger, or its prefix changed before it could apply. */
  readonly onRejected = this.telemetry.onRejected
  /** Every admission decision (`compaction_admission_total{reason}`). */
  readonly onAdmission = this.telemetry.onAdmission

  constructor(options: CompactionWorkerOptions) {
    const o = validateWorkerOptions(requireOptions<CompactionWorkerOptions>(OWNER, options))
    this.clock = o.clock ?? systemClock
    this.policy = resolvePolicy(o.policy, OWNER)
    this.quota = resolveQuota(o.quota, OWNER)
    this.store = o.store ?? new InMemoryCompactionStore({ clock: this.clock })
    const service = optionalString(OWNER, 'service', o.service)
    const memory = optionalFunction<() => boolean>(OWNER, 'memoryProbe', o.memoryProbe)
    this.signals = o.signals ?? guardSignals({ ...findSignalGuards(o.guard), memory, service })
    this.run = compactionPipeline({
      summarizer: o.summarizer,
      fallback: o.fallback,
      guard: o.guard,
      service,
      policy: this.policy,
    })
  }

  get disposed(): boolean {
    return this.shutdown.signal.aborted
  }

  /** The session with this id (created on first use). */
  session(id: string): CompactionSession {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError(`${OWNER}.session: id must be a non-empty string, got ${String(id)}`)
    }
    if (this.disposed) throw new TypeError(`${OWNER}.session: the worker is disposed`)
    let s = this.sessions.get(id)
    if (s === undefined) this.sessions.set(id, (s = new CompactionSession(id, this)))
    return s
  }

  /** Forgets a session held in this process (its store record stays). */
  forget(id: string): void {
    this.sessions.delete(id)
  }

  /** Counts of decisions (admitted, rejected by reason) and run outcomes since the worker started. */
  evidence(): AdmissionEvidence {
    return this.telemetry.evidence.snapshot()
  }

  /** Aborts every running compaction (its summarizer's signal) and resolves once they have ended. */
  async dispose(): Promise<void> {
    if (!this.disposed) this.shutdown.abort(new DOMException('compaction worker disposed', 'AbortError'))
    await Promise.all([...this.sessions.values()].map((s) => s.idle()))
    this.sessions.clear()
  }

  /** @internal */
  async considerBackground(
    s: CompactionSession,
    messages: Message[],
  ): Promise<AdmissionDecision | undefined> {
    requireMessages('endTurn', messages)
    const tokensBefore = estimateTotal(messages, this.policy.estimateTokens)
    if (tokensBefore < this.policy.triggerTokens) return undefined
    const started = this.clock.now()
    const pendingHere = s.busy !== undefined || s.ready !== undefined
    // Planned now, synchronously: the snapshot must not see the next turn's messages.
    const plan = pendingHere ? undefined : planCompaction(messages, this.policy)
    let done = (): void => {}
    if (!pendingHere) s.busy = new Promise<void>((resolve) => (done = resolve))
    const finish = (): void => {
      if (!pendingHere) s.busy = undefined
      done()
    }
    try {
      const [record, signals] = await Promise.all([this.store.read(s.id), this.signals.read()])
      let decision = decideAdmission({
        pending: pendingHere || record.inFlight,
        prepared: plan !== undefined,
        tokensBefore,
        attemptCount: record.attempts,
        maxAttemptsPerSession: this.quota.maxAttemptsPerSession,
        cooldownRemainingMs: record.cooldownRemainingMs,
        signals,
      })
      const token = randomUUID()
      if (decision.allowed && !(await this.store.acquire(s.id, token, this.quota.markerTtlMs))) {
        decision = { ...decision, allowed: false, reason: 'pending' }
      }
      if (this.disposed) {
        if (decision.allowed) await this.store.release(s.id, token)
        finish()
        return undefined
      }
      this.telemetry.admission({ sessionId: s.id, decision, durationMs: this.clock.now() - started })
      if (!decision.allowed) finish()
      else
        void this.execute(s, plan!, false, token)
          .then((outcome) => {
            if (outcome.ok) s.ready = outcome.result
          })
          .finally(finish)
      return decision
    } catch (error) {
      finish()
      this.fail(s, false, started, error, 'error')
      return undefined
    }
  }

  /** @internal */
  async runManual(s: CompactionSession, messages: Message[]): Promise<Message[]> {
    const plan = planCompaction(messages, this.policy, { force: true })
    if (plan === undefined) return messages
    let done = (): void => {}
    s.busy = new Promise<void>((resolve) => (done = resolve))
    try {
      const token = randomUUID()
      if (!(await this.store.acquire(s.id, token, this.quota.markerTtlMs))) {
        throw new AlreadyRunningError(s.id, 'compaction')
      }
      const outcome = await this.execute(s, plan, true, token)
      if (!outcome.ok) throw outcome.error
      try {
        return applyCompaction(messages, outcome.result.plan, outcome.result.summary)
      } catch (error) {
        this.discarded(s, outcome.result, error, true)
        throw error
      }
    } finally {
      s.busy = undefined
      done()
    }
  }

  /** @internal */
  discarded(s: CompactionSession, result: CompactionResult, error: unknown, manual = false): void {
    if (!isCompactionRefusedError(error) || error.reason !== 'prefix_changed') return
    this.telemetry.rejected({
      sessionId: s.id,
      manual,
      outcome: 'rejected',
      durationMs: 0,
      reason: 'prefix_changed',
      tokensBefore: result.plan.tokensBefore,
    })
  }

  /** One run: counts the attempt, bounds it by the timeout, and always clears the marker. Never rejects. */
  private async execute(
    s: CompactionSession,
    plan: CompactionPlan,
    manual: boolean,
    token: string,
  ): Promise<Outcome> {
    const started = this.clock.now()
    const { controller, unlink } = linkedController(this.shutdown.signal)
    const { timeoutMs } = this.quota
    const cancel = setTimer(this.clock, timeoutMs, () =>
      controller.abort(new TimeoutError('total', timeoutMs)),
    )
    try {
      const attempt = await this.store.countAttempt(s.id)
      this.telemetry.started({ sessionId: s.id, manual, tokensBefore: plan.tokensBefore, attempt })
      const result = await this.run.run(plan, { signal: controller.signal, priority: 'background' })
      await this.store.recordBoundary(s.id, plan.boundaryMessageId)
      this.telemetry.completed({
        sessionId: s.id,
        manual,
        outcome: 'completed',
        durationMs: this.clock.now() - started,
        tokensBefore: plan.tokensBefore,
        tokensAfter: result.tokensAfter,
        summarizer: result.summarizer,
        ...(result.summarizer === 'fallback' ? { primaryError: result.primaryError } : {}),
      })
      return { ok: true, result }
    } catch (caught) {
      const error = isStageError(caught) ? caught.cause : caught
      if (isCompactionRefusedError(error) && error.reason === 'not_below_target') {
        this.telemetry.rejected({
          sessionId: s.id,
          manual,
          outcome: 'rejected',
          durationMs: this.clock.now() - started,
          reason: 'not_below_target',
          tokensBefore: plan.tokensBefore,
          ...(error.tokensAfter !== undefined ? { tokensAfter: error.tokensAfter } : {}),
        })
      } else {
        this.fail(s, manual, started, error, failureOf(error, controller.signal))
      }
      return { ok: false, error }
    } finally {
      cancel()
      unlink()
      // Best effort: a store that fails here leaves a marker that expires after markerTtlMs.
      await Promise.allSettled([
        this.store.startCooldown(s.id, this.quota.cooldownMs),
        this.store.release(s.id, token),
      ])
    }
  }

  private fail(
    s: CompactionSession,
    manual: boolean,
    started: number,
    error: unknown,
    reason: E.CompactionFailure,
  ) {
    this.telemetry.failed({ sessionId: s.id, manual, durationMs: this.clock.now() - started, reason, error })
  }
}

/** Creates a compaction worker. See `CompactionWorkerOptions`. */
export function compactionWorker(options: CompactionWorkerOptions): CompactionWorker {
  return new CompactionWorker(options)
}
