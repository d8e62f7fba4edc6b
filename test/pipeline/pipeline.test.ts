import { describe, expect, it } from 'vitest'
import type { CallContext, CallOptions } from '../../src/core/call-options.js'
import { isResilienceError } from '../../src/core/errors/resilience-error.js'
import type { Guard } from '../../src/core/guard.js'
import { isStageError, pipeline, type StageEvent } from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'

/** A guard that records the call options it saw and runs fn with a recognisable context. */
function recordingGuard(seen: CallOptions[]): Guard {
  return {
    name: 'recording',
    execute<T>(fn: (ctx: CallContext) => Promise<T> | T, call?: CallOptions): Promise<T> {
      seen.push({ ...call })
      const ctx: CallContext = {
        signal: call?.signal ?? new AbortController().signal,
        service: call?.service ?? 'default',
        cost: call?.cost ?? 1,
        priority: call?.priority ?? 'foreground',
        attempt: 7,
        hold: () => {},
        touch: () => {},
      }
      return Promise.resolve(fn(ctx))
    },
  }
}

describe('pipeline', () => {
  it('P1 runs stages in insertion order, types change along the chain, first failure stops and names the stage', async () => {
    const order: string[] = []
    const p = pipeline<string>()
      .stage('length', (s) => {
        order.push('length')
        return s.length
      })
      .stage('double', async (n) => {
        order.push('double')
        return n * 2
      })
      .stage('label', (n) => {
        order.push('label')
        return { n }
      })
    expect(p.stageCount).toBe(3)
    expect(p.stageNames).toEqual(['length', 'double', 'label'])
    await expect(p.run('abcd')).resolves.toEqual({ n: 8 })
    expect(order).toEqual(['length', 'double', 'label'])

    const boom = new Error('boom')
    order.length = 0
    const failing = pipeline<number>()
      .stage('one', (n) => {
        order.push('one')
        return n + 1
      })
      .stage('two', () => {
        order.push('two')
        throw boom
      })
      .stage('three', (n) => {
        order.push('three')
        return n
      })
    const error = await failing.run(1).catch((e: unknown) => e)
    expect(order).toEqual(['one', 'two'])
    expect(isStageError(error)).toBe(true)
    expect(isResilienceError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'BREAKWATER_STAGE_FAILED', stage: 'two', index: 1, cause: boom })
    expect((error as Error).message).toContain('"two"')
  })

  it('P1 an empty pipeline returns its input', async () => {
    const input = { a: 1 }
    const p = pipeline<typeof input>()
    expect(p.stageCount).toBe(0)
    await expect(p.run(input)).resolves.toBe(input)
  })

  it('P1 onStage events carry name, duration and outcome', async () => {
    const clock = testClock()
    const events: StageEvent[] = []
    const p = pipeline<number>({ clock })
      .stage('wait', async (n) => {
        await clock.sleep(250)
        return n
      })
      .stage('fail', () => {
        throw new Error('nope')
      })
    p.onStage((e) => events.push(e))
    const run = p.run(1)
    const settled = run.catch((e: unknown) => e)
    await clock.advance(250)
    expect(isStageError(await settled)).toBe(true)
    expect(
      events.map(({ name, index, durationMs, outcome }) => ({ name, index, durationMs, outcome })),
    ).toEqual([
      { name: 'wait', index: 0, durationMs: 250, outcome: 'success' },
      { name: 'fail', index: 1, durationMs: 0, outcome: 'failure' },
    ])
    expect((events[1]!.error as Error).message).toBe('nope')
  })

  it('P1 a guarded stage runs through guard.execute with the run options; others do not', async () => {
    const seen: CallOptions[] = []
    const guard = recordingGuard(seen)
    const attempts: number[] = []
    const p = pipeline<number>()
      .stage('plain', (n, ctx) => {
        attempts.push(ctx.attempt)
        expect(ctx.priority).toBe('background')
        return n + 1
      })
      .stage(
        'guarded',
        (n, ctx) => {
          attempts.push(ctx.attempt)
          return n * 10
        },
        { guard },
      )
    await expect(p.run(1, { priority: 'background', service: 'llm' })).resolves.toBe(20)
    expect(attempts).toEqual([1, 7])
    expect(seen).toEqual([{ priority: 'background', service: 'llm' }])
  })

  it('P1 an abort stops the run with the signal reason, unwrapped, and the next stage never runs', async () => {
    const controller = new AbortController()
    const reason = new Error('stop')
    let reachedSecond = false
    const p = pipeline<number>()
      .stage('hang', (_n, ctx) => {
        controller.abort(reason)
        return new Promise<number>(() => {
          expect(ctx.signal.aborted).toBe(true)
        })
      })
      .stage('second', (n) => {
        reachedSecond = true
        return n
      })
    await expect(p.run(1, { signal: controller.signal })).rejects.toBe(reason)
    expect(reachedSecond).toBe(false)
  })

  it('P1 stage() returns a new pipeline and validates its arguments', () => {
    const base = pipeline<number>()
    const a = base.stage('a', (n) => n)
    expect(base.stageCount).toBe(0)
    expect(a.stageCount).toBe(1)
    expect(() => base.stage('', (n) => n)).toThrow(TypeError)
    expect(() => base.stage('x', 3 as never)).toThrow(/fn must be a function/)
    expect(() => base.stage('x', (n) => n, { guard: {} as Guard })).toThrow(/option "guard"/)
  })
})
