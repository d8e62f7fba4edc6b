import { randomUUID } from 'node:crypto'
import { abortReason } from '../core/abort.js'
import { systemClock, type Clock } from '../core/clock.js'
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
import {
  executeRun,
  modeFields,
  reportFailure,
  type RunHost,
  type RunMode,
  type RunOutcome,
} from './compaction-execution.js'
import { compactionPipeline, type CompactionResult, type RunInput } from './compaction-run.js'
import { CompactionSession, type PrepareRequestOptions, type SessionHost } from './compaction-session.js'
import { InMemoryCompactionStore, type CompactionStore } from './compaction-store.js'
import { validateWorkerOptions, type CompactionWorkerOptions } from './compaction-worker-options.js'
import { requireMessages, type Message } from './message.js'
import type { Pipeline } from './pipeline.js'
import { planCompaction } from './plan-compaction.js'
import { prepareRequest, type ForegroundHost } from './prepare-request.js'
import type * as E from './worker-events.js'
import { WorkerTelemetry } from './worker-telemetry.js'

const OWNER = 'compactionWorker'

/**
 * Runs compactions in the background, one at a time per session, within a quota (P5–P10), and in
 * the foreground when a request would not fit the window otherwise (P11).
 */
export class CompactionWorker implements SessionHost, ForegroundHost, RunHost {
  readonly policy: ResolvedCompactionPolicy
  readonly quota: ResolvedQuota
  readonly store: CompactionStore
  readonly clock: Clock
  private readonly hasFallback: boolean
  private readonly signals: AdmissionSignalSource
  /** @internal */ readonly pipeline: Pipeline<RunInput, CompactionResult>
  /** @internal */ readonly telemetry = new WorkerTelemetry()
  private readonly sessions = new Map<string, CompactionSession>()
  private readonly disposal = new AbortController()
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
    this.pipeline = compactionPipeline({
      summarizer: o.summarizer,
      fallback: o.fallback,
      guard: o.guard,
      service,
      policy: this.policy,
      clock: this.clock,
    })
  }

  get disposed(): boolean {
    return this.disposal.signal.aborted
  }

  /** @internal Aborted when the worker is disposed. */
  get shutdown(): AbortSignal {
    return this.disposal.signal
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
    if (!this.disposed) this.disposal.abort(new DOMException('compaction worker disposed', 'AbortError'))
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
    const finish = pendingHere ? (): void => {} : s.markBusy()
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
        void executeRun(this, s, { plan: plan!, accept: 'target', policy }, 'background', token)
          .then((outcome) => {
            if (outcome.ok) s.ready = outcome.result
          })
          .finally(finish)
      return decision
    } catch (error) {
      finish()
      reportFailure(this, s, 'background', started, error, 'error')
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
    const finish = s.markBusy()
    try {
      const token = randomUUID()
      if (!(await this.store.acquire(s.id, token, this.quota.markerTtlMs))) {
        throw new AlreadyRunningError(s.id, 'compaction')
      }
      const outcome = await executeRun(this, s, input, 'manual', token)
      if (!outcome.ok) throw outcome.error
      try {
        return applyCompaction(messages, outcome.result.plan, outcome.result.summary)
      } catch (error) {
        this.discarded(s, outcome.result, error, 'manual')
        throw error
      }
    } finally {
      finish()
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
    const finish = s.markBusy()
    try {
      const token = randomUUID()
      // The request cannot wait for another process's compaction it would never see: it runs anyway.
      await this.store.acquire(s.id, token, this.quota.markerTtlMs).catch(() => false)
      const input: RunInput = { plan, accept: 'shrink', policy, fallbackOnly, primaryTimeoutMs: timeMs }
      const outcome: RunOutcome = await executeRun(this, s, input, 'foreground', token, signal)
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
      finish()
    }
  }

  /** @internal */
  trimmed(e: E.CompactionTrimmedEvent): void {
    this.telemetry.trimmed(e)
  }

  /** @internal */
  discarded(
    s: CompactionSession,
    result: CompactionResult,
    error: unknown,
    mode: RunMode = 'background',
  ): void {
    if (!isCompactionRefusedError(error) || error.reason !== 'prefix_changed') return
    this.telemetry.rejected({
      sessionId: s.id,
      ...modeFields(mode),
      outcome: 'rejected',
      durationMs: 0,
      reason: 'prefix_changed',
      tokensBefore: result.plan.tokensBefore,
    })
  }
}

/** Creates a compaction worker. See `CompactionWorkerOptions`. */
export function compactionWorker(options: CompactionWorkerOptions): CompactionWorker {
  return new CompactionWorker(options)
}
