import { hasResilienceCode, ResilienceError } from '../core/errors/resilience-error.js'

/**
 * Thrown when a pipeline stage fails: names the stage and keeps the stage's own error as `cause`
 * (the caller's errors are never altered, only wrapped once so the failing stage is known).
 */
export class StageError extends ResilienceError {
  /** Name of the stage that failed. */
  readonly stage: string
  /** Zero-based position of the stage in the pipeline. */
  readonly index: number

  constructor(stage: string, index: number, cause: unknown) {
    super('BREAKWATER_STAGE_FAILED', `stage "${stage}" failed: ${describe(cause)}`, { cause })
    this.stage = stage
    this.index = index
  }
}

/** True for a StageError from this or another installed copy of breakwater. */
export function isStageError(error: unknown): error is StageError {
  return hasResilienceCode(error, 'BREAKWATER_STAGE_FAILED')
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message
  if (typeof cause === 'object' && cause !== null && typeof (cause as Error).message === 'string') {
    return (cause as Error).message
  }
  return String(cause)
}
