import { AlreadyRunningError } from './compaction-errors.js'
import { applyCompaction } from './apply-compaction.js'
import { requireNumber, requireOptions } from '../core/validate.js'
import type { AdmissionDecision } from './admission.js'
import type { Calibration } from './calibration.js'
import { closeOrphans } from './close-orphans.js'
import type { CompactionResult } from './compaction-run.js'
import { requireMessages, type Message } from './message.js'

/** What a session needs from its worker. */
export interface SessionHost {
  readonly disposed: boolean
  /** Starts a background compaction when admitted; resolves the decision, or undefined below the trigger. */
  considerBackground(session: CompactionSession, messages: Message[]): Promise<AdmissionDecision | undefined>
  /** Runs a compaction now and resolves when it ended. */
  runManual(session: CompactionSession, messages: Message[]): Promise<Message[]>
  /** Reports a finished result that no longer applies. */
  discarded(session: CompactionSession, result: CompactionResult, error: unknown): void
  /** The messages to send now, within the window (P11). */
  prepare(session: CompactionSession, messages: Message[], options: PrepareRequestOptions): Promise<Message[]>
}

/** Options of `prepareRequest`. */
export interface PrepareRequestOptions {
  /**
   * Tokens reserved for the model's answer (the request's max output tokens): the messages must fit
   * in `contextWindow − outputTokens`. Default 0.
   */
  outputTokens?: number
  /** Aborts waiting for or running a compaction; the call then rejects with the signal's reason. */
  signal?: AbortSignal
  /**
   * The error the provider answered the previous request with, when `classifyError(error).reason`
   * is 'context_overflow' (anything else is a TypeError): the counts are raised to what the provider
   * said (or past the budget), so `messages` — the ones that were refused — come back smaller.
   */
  overflow?: unknown
}

/** What the provider reported for the request `prepareRequest` returned last. */
export interface ReportedUsage {
  /** Input (prompt) tokens the provider counted, cached ones included. */
  inputTokens: number
  /** The messages that request carried. Default: those `prepareRequest` returned last. */
  messages?: readonly Message[]
}

/**
 * One conversation's view of the worker. An agent loop calls `beginTurn(messages)` before each model
 * call (it applies a finished compaction: the turn boundary) and `endTurn(messages)` after the turn's
 * messages were appended (it may start a background compaction on a snapshot). Between the two the
 * turn runs undisturbed; messages appended while a compaction runs are kept.
 */
export class CompactionSession {
  /** @internal */ turnRunning = false
  /** @internal */ paused = false
  /** @internal Deciding or compacting right now (single flight). */ busy: Promise<void> | undefined
  /** @internal A verified result waiting for the next turn boundary. */ ready: CompactionResult | undefined
  /** @internal Aborts the compaction running for this session here, if any. */ abortRun:
    (() => void) | undefined
  /** @internal Raw estimate of the messages `prepareRequest` returned last. */ lastSentRaw = 0

  constructor(
    readonly id: string,
    private readonly host: SessionHost,
    /** @internal */ readonly calibration: Calibration,
  ) {}

  /** The factor the session's token counts are multiplied by (1 until `recordUsage` or an overflow). */
  get calibrationFactor(): number {
    return this.calibration.factor
  }

  /** The calibrated token count of `messages`, as compaction and `prepareRequest` see it. */
  countTokens(messages: readonly Message[]): number {
    return this.calibration.count(requireMessages('countTokens', messages))
  }

  /**
   * The messages to send to the model now (P11), whose tokens plus `outputTokens` fit the window;
   * call it before every model call of a turn and send (and keep, as the conversation) what it
   * returns. When `messages` fit, they come back as they are (outside a turn, a finished background
   * compaction is applied first, as at `beginTurn`). When they do not: a finished compaction is
   * applied; a running one is waited for (up to `quota.foregroundTimeoutMs`); else one runs now in
   * the foreground (its summarizer bounded by what is left of that time, the extractive fallback
   * writing the summary when it fails or is too slow); and as a last resort the oldest unpinned
   * content is trimmed. The current turn's user message and latest tool call group always stay
   * (P12). Rejects only on abort, or with CompactionRefusedError('cannot_fit') when the pinned system
   * messages alone exceed the budget.
   */
  prepareRequest(messages: Message[], options?: PrepareRequestOptions): Promise<Message[]> {
    try {
      const o = requireOptions<PrepareRequestOptions>('prepareRequest', options, true)
      return this.host.prepare(this, requireMessages('prepareRequest', messages), o)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Calibrates the session's counts from the provider's reported input tokens for the request
   * `prepareRequest` returned last (P13): every later count is scaled by reported / estimated
   * (bounded to 0.5…4), so compaction triggers on what the provider really counts.
   */
  recordUsage(usage: ReportedUsage): void {
    const u = requireOptions<ReportedUsage>('recordUsage', usage)
    const input = requireNumber('recordUsage', 'inputTokens', u.inputTokens, { integer: true, min: 0 })
    const raw =
      u.messages !== undefined
        ? this.calibration.raw(requireMessages('recordUsage', u.messages as Message[]))
        : this.lastSentRaw
    this.calibration.observe(input, raw)
  }

  /** True while a compaction for this session is being decided or run in this process. */
  get compacting(): boolean {
    return this.busy !== undefined
  }

  /** True when a finished compaction waits for the next turn boundary. */
  get hasPendingResult(): boolean {
    return this.ready !== undefined
  }

  /** True between `beginTurn()` and `endTurn()`. */
  get inTurn(): boolean {
    return this.turnRunning
  }

  /**
   * Turn boundary: applies a finished compaction to `messages` (see `applyPending`) and marks the
   * turn as running. Throws AlreadyRunningError when a turn is already running.
   */
  beginTurn(messages: Message[]): Message[] {
    if (this.turnRunning) throw new AlreadyRunningError(this.id, 'turn')
    const out = this.applyPending(messages)
    this.turnRunning = true
    return out
  }

  /**
   * Marks the turn as ended. When the conversation is at or over the trigger and admission allows
   * (P6), a compaction starts in the background on a snapshot of `messages`; its result is applied at
   * the next `beginTurn`/`applyPending`. Resolves with the admission decision, or undefined when below
   * the trigger, paused or disposed. Never rejects.
   */
  endTurn(messages: Message[]): Promise<AdmissionDecision | undefined> {
    this.turnRunning = false
    if (this.paused || this.host.disposed) return Promise.resolve(undefined)
    return this.host.considerBackground(this, messages)
  }

  /**
   * Applies a finished compaction, if any, returning a new array (or `messages` itself when there is
   * nothing to apply). Messages appended since the snapshot are kept. A result whose summarized
   * messages changed since is discarded (a 'rejected' event, reason 'prefix_changed') and `messages`
   * is returned untouched.
   */
  applyPending(messages: Message[]): Message[] {
    requireMessages('applyPending', messages)
    const result = this.ready
    if (result === undefined) return messages
    this.ready = undefined
    try {
      return applyCompaction(messages, result.plan, result.summary)
    } catch (error) {
      this.host.discarded(this, result, error)
      return messages
    }
  }

  /**
   * Compacts now, even below the trigger, and resolves with the compacted messages (applied to
   * `messages` as they are when it finishes; `messages` itself is returned when there is nothing to
   * compact). A finished background result is applied instead of running another. Refused with
   * AlreadyRunningError while a turn runs, while the session is paused, or while a compaction for it
   * runs here or in another process sharing the store. Cooldown, attempt limit and signals do not
   * apply: this is the user's explicit request.
   */
  compact(messages: Message[]): Promise<Message[]> {
    if (this.turnRunning) return Promise.reject(new AlreadyRunningError(this.id, 'turn'))
    if (this.paused) return Promise.reject(new AlreadyRunningError(this.id, 'paused'))
    if (this.busy !== undefined) return Promise.reject(new AlreadyRunningError(this.id, 'compaction'))
    if (this.ready !== undefined) {
      try {
        return Promise.resolve(this.applyPending(messages))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.host.runManual(this, messages)
  }

  /** Stops background compaction for this session and refuses manual ones until `resume()`. A running one finishes. */
  pause(): void {
    this.paused = true
  }

  /**
   * Ends a pause. Given the conversation (of a paused session, or of one a crashed process left
   * mid-turn), also returns it made valid for the provider (P16): every tool call without a result
   * is closed with a synthetic one, tool results without their call are removed, and one interrupt
   * note (a user message) says so. Without anything to close, the messages come back as they are.
   */
  resume(): void
  resume(messages: Message[]): Message[]
  resume(messages?: Message[]): Message[] | void {
    this.paused = false
    if (messages === undefined) return
    this.turnRunning = false // the interrupted turn is over
    return closeOrphans(requireMessages('resume', messages)).messages
  }

  /** @internal Marks the session busy (single flight); the function returned ends that. */
  markBusy(): () => void {
    let done = (): void => {}
    const busy = new Promise<void>((resolve) => (done = resolve))
    this.busy = busy
    return () => {
      if (this.busy === busy) this.busy = undefined
      done()
    }
  }

  /** Resolves when no compaction for this session is being decided or run here. Never rejects. */
  async idle(): Promise<void> {
    while (this.busy !== undefined) await this.busy
  }
}
