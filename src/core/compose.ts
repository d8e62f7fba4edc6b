import type { CallContext } from './call-options.js'
import { callFn, type ExecutionContext } from './context.js'
import { runInside } from './foreign-layer.js'
import { GuardBase, isChainable, type Guard, type Next, RUN } from './guard.js'

/** A guard made of others, outermost first. */
export interface ComposedGuard extends Guard {
  readonly guards: readonly Guard[]
}

class Composed extends GuardBase implements ComposedGuard {
  readonly name: string
  readonly guards: readonly Guard[]
  /** The chain ending in the user's function, built once: no allocation per call. */
  private readonly chain: Next
  private readonly defers: boolean
  /** The guards with a whole-call deadline: they start when the call enters the chain. */
  private readonly totals: readonly TotalBound[]

  constructor(guards: readonly Guard[]) {
    super()
    this.guards = Object.freeze([...guards])
    this.name = `compose(${guards.map((g) => g.name).join(', ')})`
    const flat = flatten(guards)
    this.chain = buildChain(flat, callFn)
    this.defers = flat.some((g) => isChainable(g) && g.defersCleanup === true)
    this.totals = flat.filter(isTotalBound)
  }

  override get defersCleanup(): boolean {
    return this.defers
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    // Time queued or sleeping before the first attempt counts toward every total bound too.
    for (let i = 0; i < this.totals.length; i++) this.totals[i]!.beginTotal(ctx)
    return next === callFn ? this.chain(ctx) : buildChain(flatten(this.guards), next)(ctx)
  }
}

/** A guard that bounds the whole call (the timeout guard with `totalMs`). */
interface TotalBound extends Guard {
  readonly totalMs: number | undefined
  beginTotal(ctx: ExecutionContext): void
}

function isTotalBound(guard: Guard): guard is TotalBound {
  const g = guard as Partial<TotalBound>
  return typeof g.beginTotal === 'function' && typeof g.totalMs === 'number'
}

/**
 * Composes guards into one; the first is the outermost. One context object is threaded through
 * every layer, so per-call data (service, key, cost, priority, signal) reaches all of them.
 */
export function compose(...guards: Guard[]): ComposedGuard {
  guards.forEach((guard, i) => {
    if (
      typeof guard !== 'object' ||
      guard === null ||
      typeof guard.execute !== 'function' ||
      typeof guard.name !== 'string'
    ) {
      throw new TypeError(
        `compose: argument ${i} must be a Guard (an object with name and execute), got ${String(guard)}`,
      )
    }
  })
  return new Composed(guards)
}

function flatten(guards: readonly Guard[]): Guard[] {
  return guards.flatMap((g) => (g instanceof Composed ? flatten(g.guards) : [g]))
}

function buildChain(guards: readonly Guard[], last: Next): Next {
  let next = last
  for (let i = guards.length - 1; i >= 0; i--) next = step(guards[i]!, next)
  return next
}

function step(guard: Guard, next: Next): Next {
  if (isChainable(guard)) return (ctx) => guard[RUN](next, ctx)
  return (ctx) => foreignStep(guard, next, ctx)
}

/** A guard written outside breakwater only has `execute()`: run the rest of the chain inside it. */
function foreignStep(guard: Guard, next: Next, ctx: ExecutionContext): Promise<unknown> {
  return runInside(ctx, next, (fn) =>
    guard.execute(fn as (inner: CallContext) => Promise<unknown>, {
      signal: ctx.signal,
      service: ctx.serviceFromCall ? ctx.service : undefined,
      key: ctx.key,
      cost: ctx.cost,
      priority: ctx.priority,
    }),
  )
}
