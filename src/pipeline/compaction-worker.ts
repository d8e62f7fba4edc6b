import { randomUUID } from 'node:crypto'
import { abortReason, linkedController, onAbort } from '../core/abort.js'
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
import { Calibration } from './calibration.js'
import { AlreadyRunningError, CompactionRefusedError, isCompactionRefusedError } from './compaction-errors.js'
import { resolvePolicy, type ResolvedCompactionPolicy } from './compaction-policy.js'
import { resolveQuota, type ResolvedQuota } from './compaction-quota.js'
import { compactionPipeline, type CompactionResult, type RunInput } from './compaction-run.js'
import { CompactionSession, type PrepareRequestOptions, type SessionHost } from './compaction-session.js'
import { InMemoryCompactionStore, type CompactionStore } from './compaction-store.js'
import { validateWorkerOptions, type CompactionWorkerOptions } from './compaction-worker-options.js'
import { requireMessages, type Message } from './message.js'
import type { Pipeline } from './pipeline.js'
import { planCompaction } from './plan-compaction.js'
import { prepareRequest, type ForegroundHost } from './prepare-request.js'
import { isStageError } from './stage-error.js'
import type * as E from './worker-events.js'
import { failureOf, WorkerTelemetry } from './worker-telemetry.js'

const OWNER = 'compactionWorker'
type Outcome = { ok: true; result: CompactionResult } | { ok: false; error: unknown }
type Mode = 'background' | 'manual' | 'foreground'

/**
 * Runs compactions in the background, one at a time per session, within a quota (P5–P10), and in
 * the foreground when a request would not fit the window otherwise (P11).
 */
export class CompactionWorker implements SessionHost, ForegroundHost {
  readonly policy: ResolvedCompactionPolicy
  readonly quota: ResolvedQuota
  readonly store: CompactionStore
  readonly clock: Clock
  private readonly hasFallback: boolean
  private readonly signals: AdmissionSignalSource
  private readonly run: Pipeline<RunInput, CompactionResult>
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
  /** `prepareRequest` trimmed a request that compaction could not make fit (P11). */
  readonly onTrimmed = this.telemetry.onTrimmed

  constructor(options: CompactionWorkerOptions) {
    const o = validateWorkerOptions(requireOptions<CompactionWorkerOptions>(OWNER, options))
    this.clock = o.clock ?? systemClock
    this.policy = resolvePolicy(o.policy, OWNER)
    this.quota = resolveQuota(o.quota, OWNER)
    this.store = o.store ?? new InMemoryCompactionStore({ clock: this.clock })
    const service = optionalString(OWNER, 'service', o.service)
    const memory = optionalFunction<() => boolean>(OWNER, 'memoryProbe', o.memoryProbe)
    this.signals = o.signals ?? guardSignals({ ...findSignalGuards(o.guard), memory, service })
    this.hasFallback = o.fallback !== undefined
    this.run = compactionPipeline({
      summarizer: o.summarizer,
      fallback: o.fallback,
      guard: o.guard,
      service,
      policy: this.policy,
      clock: this.clock,
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
    if (s === undefined) {
      this.sessions.set(id, (s = new CompactionSession(id, this, new Calibration(this.policy))))
    }
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
    const policy = s.calibration.policy
    const tokensBefore = s.calibration.count(messages)
    if (tokensBefore < policy.triggerTokens) return undefined
    const started = this.clock.now()
    const pendingHere = s.busy !== undefined || s.ready !== undefined
    // Planned now, synchronously: the snapshot must not see the next turn's messages.
    const plan = pendingHere ? undefined : planCompaction(messages, policy)
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
        reachable: plan?.reachesTarget ?? true,
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
        void this.execute(s, { plan: plan!, accept: 'target', policy }, 'background', token)
          .then((outcome) => {
            if (outcome.ok) s.ready = outcome.result
          })
          .finally(finish)
      return decision
    } catch (error) {
      finish()
      this.fail(s, 'background', started, error, 'error')
      return undefined
    }
  }

  /** @internal */
  async runManual(s: CompactionSession, messages: Message[]): Promise<Message[]> {
    const policy = s.calibration.policy
    const plan = planCompaction(messages, policy, { force: true })
    if (plan === undefined) return messages
    // A plan that cannot reach the target is never sent to a paid summarizer (P14).
    if (!plan.reachesTarget && !this.hasFallback) {
      throw new CompactionRefusedError(
        'not_below_target',
        `the kept part alone leaves ${plan.tokensKept} tokens, too many to end below ${policy.targetTokens} (0.8 × trigger)`,
        plan.tokensKept,
      )
    }
    const input: RunInput = plan.reachesTarget
      ? { plan, accept: 'target', policy }
      : { plan, accept: 'shrink', policy, fallbackOnly: true }
    let done = (): void => {}
    s.busy = new Promise<void>((resolve) => (done = resolve))
    try {
      const token = randomUUID()
      if (!(await this.store.acquire(s.id, token, this.quota.markerTtlMs))) {
        throw new AlreadyRunningError(s.id, 'compaction')
      }
      const outcome = await this.execute(s, input, 'manual', token)
      if (!outcome.ok) throw outcome.error
      try {
        return applyCompaction(messages, outcome.result.plan, outcome.result.summary)
      } catch (error) {
        this.discarded(s, outcome.result, error, 'manual')
        throw error
      }
    } finally {
      s.busy = undefined
      done()
    }
  }

  /** @internal */
  prepare(s: CompactionSession, messages: Message[], options: PrepareRequestOptions): Promise<Message[]> {
    return prepareRequest(this, s, messages, options)
  }

  /** @internal A foreground compaction for `prepareRequest`; resolves `messages` when it could not compact. */
  async compactNow(
    s: CompactionSession,
    messages: Message[],
    timeMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Message[]> {
    const policy = s.calibration.policy
    const plan = planCompaction(messages, policy, { force: true })
    if (plan === undefined) return messages
    // No paid call for a plan that cannot reach the target (P14), nor once the waiting time is used up.
    const fallbackOnly = !plan.reachesTarget || timeMs <= 0
    if (fallbackOnly && !this.hasFallback) return messages
    await s.idle()
    let done = (): void => {}
    s.busy = new Promise<void>((resolve) => (done = resolve))
    try {
      const token = randomUUID()
      // The request cannot wait for another process's compaction it would never see: it runs anyway.
      await this.store.acquire(s.id, token, this.quota.markerTtlMs).catch(() => false)
      const input: RunInput = { plan, accept: 'shrink', policy, fallbackOnly, primaryTimeoutMs: timeMs }
      const outcome = await this.execute(s, input, 'foreground', token, signal)
      if (!outcome.ok) {
        if (signal?.aborted) throw abortReason(signal)
        return messages
      }
      try {
        return applyCompaction(messages, outcome.result.plan, outcome.result.summary)
      } catch (error) {
        this.discarded(s, outcome.result, error, 'foreground')
        return messages
      }
    } finally {
      s.busy = undefined
      done()
    }
  }

  /** @internal */
  trimmed(e: E.CompactionTrimmedEvent): void {
    this.telemetry.trimmed(e)
  }

  /** @internal */
  discarded(s: CompactionSession, result: CompactionResult, error: unknown, mode: Mode = 'background'): void {
    if (!isCompactionRefusedError(error) || error.reason !== 'prefix_changed') return
    this.telemetry.rejected({
      sessionId: s.id,
      manual: mode === 'manual',
      foreground: mode === 'foreground',
      outcome: 'rejected',
      durationMs: 0,
      reason: 'prefix_changed',
      tokensBefore: result.plan.tokensBefore,
    })
  }

  /** One run: counts the attempt, bounds it by the timeout, and always clears the marker. Never rejects. */
  private async execute(
    s: CompactionSession,
    input: RunInput,
    mode: Mode,
    token: string,
    callerSignal?: AbortSignal,
  ): Promise<Outcome> {
    const { plan } = input
    const started = this.clock.now()
    const manual = mode === 'manual'
    const foreground = mode === 'foreground'
    const { controller, unlink } = linkedController(this.shutdown.signal)
    const unlinkCaller =
      callerSignal === undefined
        ? () => {}
        : onAbort(callerSignal, () => controller.abort(abortReason(callerSignal)))
    if (callerSignal?.aborted) controller.abort(abortReason(callerSignal))
    // prepareRequest gives up on a background run it waited too long for (it compacts in the foreground).
    s.abortRun = () =>
      controller.abort(new DOMException('compaction superseded by a foreground one', 'AbortError'))
    const { timeoutMs } = this.quota
    const cancel = setTimer(this.clock, timeoutMs, () =>
      controller.abort(new TimeoutError('total', timeoutMs)),
    )
    try {
      const attempt = await this.store.countAttempt(s.id)
      this.telemetry.started({
        sessionId: s.id,
        manual,
        foreground,
        tokensBefore: plan.tokensBefore,
        attempt,
      })
      const priority = foreground ? 'foreground' : 'background'
      const result = await this.run.run(input, { signal: controller.signal, priority })
      await this.store.recordBoundary(s.id, plan.boundaryMessageId)
      this.telemetry.completed({
        sessionId: s.id,
        manual,
        foreground,
        outcome: 'completed',
        durationMs: this.clock.now() - started,
        tokensBefore: plan.tokensBefore,
        tokensAfter: result.tokensAfter,
        summarizer: result.summarizer,
        summarizerCalls: result.primaryCalls,
        ...(result.summarizer === 'fallback' ? { primaryError: result.primaryError } : {}),
      })
      return { ok: true, result }
    } catch (caught) {
      const error = isStageError(caught) ? caught.cause : caught
      if (isCompactionRefusedError(error) && error.reason === 'not_below_target') {
        this.telemetry.rejected({
          sessionId: s.id,
          manual,
          foreground,
          outcome: 'rejected',
          durationMs: this.clock.now() - started,
          reason: 'not_below_target',
          tokensBefore: plan.tokensBefore,
          ...(error.tokensAfter !== undefined ? { tokensAfter: error.tokensAfter } : {}),
        })
      } else {
        this.fail(s, mode, started, error, failureOf(error, controller.signal))
      }
      return { ok: false, error }
    } finally {
      cancel()
      unlink()
      unlinkCaller()
      s.abortRun = undefined
      // Best effort: a store that fails here leaves a marker that expires after markerTtlMs.
      await Promise.allSettled([
        this.store.startCooldown(s.id, this.quota.cooldownMs),
        this.store.release(s.id, token),
      ])
    }
  }

  private fail(
    s: CompactionSession,
    mode: Mode,
    started: number,
    error: unknown,
    reason: E.CompactionFailure,
  ) {
    this.telemetry.failed({
      sessionId: s.id,
      manual: mode === 'manual',
      foreground: mode === 'foreground',
      durationMs: this.clock.now() - started,
      reason,
      error,
    })
  }
}

/** Creates a compaction worker. See `CompactionWorkerOptions`. */
export function compactionWorker(options: CompactionWorkerOptions): CompactionWorker {
  return new CompactionWorker(options)
}
