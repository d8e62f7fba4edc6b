/**
 * The answer channel: a layer listens on the context of the call it runs and hears the answers
 * reported inside `fn` — each attempt's, a held stream's before its hold settles — and nothing
 * once its part of the call is over.
 */
import { describe, expect, it } from 'vitest'
import { answersWanted, listenForAnswers, reportAnswer } from '../../src/core/answer-channel.js'
import type { CallContext } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import type { ExecutionContext } from '../../src/core/context.js'
import { GuardBase, type Next, RUN } from '../../src/core/guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

/** A layer that listens for the answers of the part of the call it runs, as a rate limit does. */
class Listening extends GuardBase {
  readonly name = 'listening'
  readonly heard: { run: number; answer: unknown }[] = []
  private runs = 0;

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    const run = ++this.runs
    const subscription = listenForAnswers(ctx, (answer) => this.heard.push({ run, answer }))
    return next(ctx).then(
      (value) => {
        const held = ctx.takeHeld()
        if (held === undefined) subscription.dispose()
        else
          held.then(
            () => subscription.dispose(),
            () => subscription.dispose(),
          )
        return value
      },
      (error: unknown) => {
        subscription.dispose()
        throw error
      },
    )
  }
}

describe('L4 the answer channel of a call', () => {
  it('L4 a layer inside retry hears each attempt on a subscription of its own; nothing listens after the call', async () => {
    const listening = new Listening()
    const guard = compose(retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), listening)
    let seen: CallContext | undefined
    const value = await guard.execute((ctx) => {
      seen = ctx
      reportAnswer(ctx, { status: ctx.attempt < 3 ? 503 : 200, attempt: ctx.attempt })
      if (ctx.attempt < 3) throw httpError(503)
      return 'answer'
    })
    expect(value).toBe('answer')
    expect(listening.heard).toEqual([
      { run: 1, answer: { status: 503, attempt: 1 } },
      { run: 2, answer: { status: 503, attempt: 2 } },
      { run: 3, answer: { status: 200, attempt: 3 } },
    ])
    expect(answersWanted(seen!)).toBe(false)
    reportAnswer(seen!, { status: 200, late: true })
    expect(listening.heard).toHaveLength(3)
  })

  it('L4 a layer outside retry hears every attempt on one subscription; a layer further in hears first', async () => {
    const outer = new Listening()
    const inner = new Listening()
    const order: string[] = []
    const guard = compose(outer, retryGuard({ maxAttempts: 2, baseDelayMs: 0 }), inner)
    await guard.execute((ctx) => {
      listenForAnswers(ctx, () => order.push('fn'))
      reportAnswer(ctx, { attempt: ctx.attempt })
      if (ctx.attempt === 1) throw httpError(500)
      return 'ok'
    })
    expect(outer.heard.map((h) => h.run)).toEqual([1, 1])
    expect(inner.heard.map((h) => h.run)).toEqual([1, 2])
    // The listener `fn` added on attempt 1 stays on the context (nobody disposed of it) and was
    // added last: it hears first.
    expect(order).toEqual(['fn', 'fn', 'fn'])
  })

  it('L4 a held call (a stream) is listened to until its hold settles, so its answer at the end is heard', async () => {
    const listening = new Listening()
    const end = deferred()
    let held: CallContext | undefined
    const stream = await listening.execute((ctx) => {
      held = ctx
      ctx.hold(end.promise)
      return 'stream'
    })
    expect(stream).toBe('stream')
    expect(answersWanted(held!)).toBe(true)
    reportAnswer(held!, { usage: { outputTokens: 9 } }) // the final usage event, before the hold settles
    end.resolve()
    await flush()
    expect(answersWanted(held!)).toBe(false)
    expect(listening.heard).toEqual([{ run: 1, answer: { usage: { outputTokens: 9 } } }])
  })

  it('L4 a listener that throws is a process warning; the others still hear, and the call goes on', async () => {
    const listening = new Listening()
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const value = await listening.execute((ctx) => {
        listenForAnswers(ctx, () => {
          throw new Error('listener bug')
        })
        reportAnswer(ctx, 'answer')
        return 'ok'
      })
      await flush()
      expect(value).toBe('ok')
      expect(listening.heard).toEqual([{ run: 1, answer: 'answer' }])
      expect(warnings.map((w) => w.message)).toContain('listener bug')
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('L4 a disposed listener is not called again, even while a report walks past it; dispose is idempotent', async () => {
    const heard: string[] = []
    await new Listening().execute((ctx) => {
      let second: { dispose(): void } | undefined = undefined
      second = listenForAnswers(ctx, () => heard.push('second'))
      listenForAnswers(ctx, () => {
        heard.push('first')
        second!.dispose()
        second!.dispose()
      })
      reportAnswer(ctx, 1)
      reportAnswer(ctx, 2)
    })
    expect(heard).toEqual(['first', 'first'])
  })

  it('L4 reporting without a breakwater context does nothing; listening without one names what is wrong', () => {
    expect(() => reportAnswer({} as CallContext, { status: 200 })).not.toThrow()
    expect(answersWanted({} as CallContext)).toBe(false)
    expect(() => listenForAnswers({} as CallContext, () => {})).toThrow(TypeError)
    expect(() => listenForAnswers({} as CallContext, () => {})).toThrow(/listenForAnswers: ctx/)
  })
})
