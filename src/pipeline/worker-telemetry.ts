import { isTimeoutError } from '../core/errors/timeout-error.js'
import { EventEmitter } from '../core/events.js'
import { EvidenceCounter } from './admission-evidence.js'
import { isCompactionRefusedError } from './compaction-errors.js'
import type * as E from './worker-events.js'

/** The worker's events and evidence: every emitted outcome is counted once, in one place. */
export class WorkerTelemetry {
  readonly evidence = new EvidenceCounter()
  private readonly startedEmitter = new EventEmitter<E.CompactionStartedEvent>()
  private readonly completedEmitter = new EventEmitter<E.CompactionCompletedEvent>()
  private readonly failedEmitter = new EventEmitter<E.CompactionFailedEvent>()
  private readonly rejectedEmitter = new EventEmitter<E.CompactionRejectedEvent>()
  private readonly admissionEmitter = new EventEmitter<E.CompactionAdmissionEvent>()
  private readonly trimmedEmitter = new EventEmitter<E.CompactionTrimmedEvent>()
  readonly onStarted = this.startedEmitter.addListener
  readonly onCompleted = this.completedEmitter.addListener
  readonly onFailed = this.failedEmitter.addListener
  readonly onRejected = this.rejectedEmitter.addListener
  readonly onAdmission = this.admissionEmitter.addListener
  readonly onTrimmed = this.trimmedEmitter.addListener

  trimmed(e: E.CompactionTrimmedEvent): void {
    this.trimmedEmitter.emit(e)
  }

  admission(e: E.CompactionAdmissionEvent): void {
    this.evidence.decision(e.decision)
    this.admissionEmitter.emit(e)
  }

  started(e: E.CompactionStartedEvent): void {
    this.startedEmitter.emit(e)
  }

  completed(e: E.CompactionCompletedEvent): void {
    this.evidence.run('completed')
    this.completedEmitter.emit(e)
  }

  rejected(e: E.CompactionRejectedEvent): void {
    this.evidence.run('rejected')
    this.rejectedEmitter.emit(e)
  }

  failed(e: Omit<E.CompactionFailedEvent, 'outcome' | 'message'>): void {
    this.evidence.run('failed')
    const error = e.error
    this.failedEmitter.emit({
      ...e,
      outcome: 'failed',
      message: error instanceof Error ? error.message : String(error),
    })
  }
}

/** Why a run failed: our timeout, another abort (dispose), a malformed result, or an error. */
export function failureOf(error: unknown, signal: AbortSignal): E.CompactionFailure {
  if (signal.aborted) return isTimeoutError(signal.reason) ? 'timeout' : 'aborted'
  return isCompactionRefusedError(error) && error.reason === 'malformed_summary' ? 'malformed' : 'error'
}
