import { AlreadyRunningError } from './compaction-errors.js'
import { applyCompaction } from './apply-compaction.js'
import type { AdmissionDecision } from './admission.js'
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

  constructor(
    readonly id: string,
    private readonly host: SessionHost,
  ) {}

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

  resume(): void {
    this.paused = false
  }

  /** Resolves when no compaction for this session is being decided or run here. Never rejects. */
  async idle(): Promise<void> {
    while (this.busy !== undefined) await this.busy
  }
}
