import { type IDefaultPolicyContext, type IFailureEvent, type IPolicy, type ISuccessEvent } from 'cockatiel'
import type { CallOptions } from './call-options.js'
import type { ExecutionContext } from './context.js'
import { EventEmitter } from './events.js'
import { runInside } from './foreign-layer.js'
import { GuardBase, type Guard, type Next, RUN } from './guard.js'
import { requireOptions } from './validate.js'

class GuardPolicy implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never
  private readonly successEmitter = new EventEmitter<ISuccessEvent>()
  private readonly failureEmitter = new EventEmitter<IFailureEvent>()
  readonly onSuccess = this.successEmitter.addListener
  readonly onFailure = this.failureEmitter.addListener

  constructor(
    private readonly guard: Guard,
    private readonly defaults: CallOptions,
  ) {}

  async execute<T>(
    fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T,
    signal?: AbortSignal,
  ): Promise<T> {
    const started = performance.now()
    try {
      const value = await this.guard.execute<T>(async (ctx) => await fn({ signal: ctx.signal }), {
        ...this.defaults,
        signal: signal ?? this.defaults.signal,
      })
      this.successEmitter.emit({ duration: performance.now() - started })
      return value
    } catch (error) {
      this.failureEmitter.emit({ duration: performance.now() - started, handled: true, reason: { error } })
      throw error
    }
  }
}

/**
 * Exposes a breakwater guard as a cockatiel policy, for use inside cockatiel's `wrap()`. cockatiel
 * passes no per-call data, so the guard sees `defaults` (service, key, cost, priority).
 */
export function toPolicy(guard: Guard, defaults?: CallOptions): IPolicy<IDefaultPolicyContext> {
  if (typeof guard?.execute !== 'function') {
    throw new TypeError(`toPolicy: guard must be a Guard, got ${String(guard)}`)
  }
  return new GuardPolicy(guard, requireOptions<CallOptions>('toPolicy', defaults, true))
}

class PolicyGuard extends GuardBase {
  readonly name = 'cockatiel'

  constructor(private readonly policy: IPolicy<IDefaultPolicyContext, unknown>) {
    super()
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    return runInside(ctx, next, (fn) => this.policy.execute(fn, ctx.signal))
  }
}

/** Uses a cockatiel policy (timeout, bulkhead, …) as one layer of `compose()`. */
export function fromPolicy(policy: IPolicy<IDefaultPolicyContext, unknown>): Guard {
  if (typeof policy?.execute !== 'function') {
    throw new TypeError(`fromPolicy: policy must be a cockatiel policy, got ${String(policy)}`)
  }
  return new PolicyGuard(policy)
}
