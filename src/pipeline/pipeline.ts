import { abortReason, NEVER_ABORTED, raceAbort } from '../core/abort.js'
import type { CallContext, CallOptions } from '../core/call-options.js'
import type { Clock } from '../core/clock.js'
import { EventEmitter } from '../core/events.js'
import type { Guard } from '../core/guard.js'
import { optionalClock, requireOptions } from '../core/validate.js'
import { plainContext } from './plain-context.js'
import { StageError } from './stage-error.js'

/** A stage's work: takes the previous stage's output, returns (or resolves to) the next input. */
export type StageFn<In, Out> = (input: In, ctx: CallContext) => Out | Promise<Out>

export interface StageOptions {
  /**
   * Runs the stage through this guard (`guard.execute(...)`), with the run's call options
   * (signal, priority, service, cost, key). The stage then sees the guard's context. Default: none —
   * the stage is called directly with a plain context built from the run's options.
   */
  guard?: Guard
}

/** Options of one run. They reach every guarded stage as call options. */
export type PipelineRunOptions = CallOptions

/** Emitted after every stage, success or failure. */
export interface StageEvent {
  readonly name: string
  /** Zero-based position in the pipeline. */
  readonly index: number
  readonly durationMs: number
  readonly outcome: 'success' | 'failure'
  /** The stage's own error, on failure. */
  readonly error?: unknown
}

export interface PipelineOptions {
  /** Source of time for stage durations. Default: `performance.now()`. */
  clock?: Clock
}

interface StageDef {
  readonly name: string
  readonly fn: StageFn<unknown, unknown>
  readonly guard: Guard | undefined
}

/**
 * Named stages run in insertion order, each one's output the next one's input. Immutable: `stage()`
 * returns a new pipeline (with its own `onStage` listeners), so a shared prefix can be extended twice.
 */
export class Pipeline<I, O> {
  private readonly stageEmitter = new EventEmitter<StageEvent>()
  /** Fires after each stage with its duration and outcome. */
  readonly onStage = this.stageEmitter.addListener

  constructor(
    private readonly stages: readonly StageDef[],
    private readonly options: PipelineOptions,
  ) {}

  /** Number of stages. */
  get stageCount(): number {
    return this.stages.length
  }

  /** Names of the stages, in order. */
  get stageNames(): readonly string[] {
    return this.stages.map((s) => s.name)
  }

  /** Appends a stage; returns a new pipeline whose output is the stage's output. */
  stage<N>(name: string, fn: StageFn<O, N>, options?: StageOptions): Pipeline<I, N> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`pipeline.stage: name must be a non-empty string, got ${String(name)}`)
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`pipeline.stage("${name}"): fn must be a function, got ${typeof fn}`)
    }
    const o = requireOptions<StageOptions>(`pipeline.stage("${name}")`, options, true)
    if (o.guard !== undefined && typeof o.guard?.execute !== 'function') {
      throw new TypeError(`pipeline.stage("${name}"): option "guard" must be a Guard, got ${String(o.guard)}`)
    }
    const def: StageDef = { name, fn: fn as StageFn<unknown, unknown>, guard: o.guard }
    return new Pipeline<I, N>([...this.stages, def], this.options)
  }

  /**
   * Runs every stage in order. The first failure stops the run with a `StageError` naming the stage
   * (its `cause` is the stage's error). An abort of `options.signal` rejects with the signal's reason,
   * unwrapped: it is the caller's, not a stage failure. An empty pipeline resolves with its input.
   */
  async run(input: I, options?: PipelineRunOptions): Promise<O> {
    const call = requireOptions<PipelineRunOptions>('pipeline.run', options, true)
    const signal = call.signal ?? NEVER_ABORTED
    let plain: CallContext | undefined
    let value: unknown = input
    for (let index = 0; index < this.stages.length; index++) {
      if (signal.aborted) throw abortReason(signal)
      const def = this.stages[index]!
      const started = this.now()
      try {
        const current = value
        value = await (def.guard
          ? def.guard.execute((ctx) => def.fn(current, ctx), call)
          : raceAbort(Promise.resolve(def.fn(current, (plain ??= plainContext(call, signal)))), signal))
      } catch (error) {
        this.emit(def.name, index, started, 'failure', error)
        if (signal.aborted) throw abortReason(signal)
        throw new StageError(def.name, index, error)
      }
      this.emit(def.name, index, started, 'success', undefined)
    }
    return value as O
  }

  private now(): number {
    return this.options.clock ? this.options.clock.now() : performance.now()
  }

  private emit(name: string, index: number, started: number, outcome: StageEvent['outcome'], error: unknown) {
    const event: StageEvent = { name, index, durationMs: this.now() - started, outcome }
    this.stageEmitter.emit(outcome === 'failure' ? { ...event, error } : event)
  }
}

/** Starts an empty pipeline whose input (and, until a stage is added, output) has type `I`. */
export function pipeline<I>(options?: PipelineOptions): Pipeline<I, I> {
  const o = requireOptions<PipelineOptions>('pipeline', options, true)
  optionalClock('pipeline', o.clock, false)
  return new Pipeline<I, I>([], { clock: o.clock })
}
