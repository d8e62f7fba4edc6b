/**
 * Fails the test that leaks: an unhandled promise rejection, or a timer the test created that is
 * still running (and keeping the process alive) after the test ended.
 */
import { createHook } from 'node:async_hooks'
import { afterEach, beforeEach, expect } from 'vitest'

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason)
})

interface TrackedTimer {
  resource: { hasRef?: () => boolean }
  stack: string
}

let tracking = false
const live = new Map<number, TrackedTimer>()

createHook({
  init(asyncId, type, _trigger, resource) {
    if (!tracking || type !== 'Timeout') return
    const stack = new Error().stack ?? ''
    // The test runner's own timers (test timeouts, reporter ticks) are not the test's.
    if (
      /[\\/](@vitest|vitest|tinypool)[\\/]/.test(stack) &&
      !/[\\/](src|test)[\\/]/.test(stack.split('\n').slice(2).join('\n'))
    )
      return
    live.set(asyncId, { resource: resource as TrackedTimer['resource'], stack })
  },
  destroy(asyncId) {
    live.delete(asyncId)
  },
}).enable()

beforeEach(() => {
  unhandled.length = 0
  live.clear()
  tracking = true
})

afterEach(async () => {
  tracking = false
  // Let rejections that are about to be reported, and timers that are being cleared, settle first.
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  const leaked = [...live.values()].filter((t) => t.resource.hasRef?.() !== false && !isDone(t.resource))
  live.clear()
  const rejections = unhandled.splice(0)
  expect(rejections, 'unhandled promise rejections').toEqual([])
  expect(
    // Where each timer was created, without the runtime's own frames.
    leaked.map((t) =>
      t.stack
        .split('\n')
        .slice(1)
        .filter((line) => !line.includes('node:internal'))
        .slice(0, 6)
        .join('\n'),
    ),
    'timers left running by the test',
  ).toEqual([])
})

/** A timer that fired (and is not an interval) is done even before its destroy hook runs. */
function isDone(resource: unknown): boolean {
  const t = resource as { _destroyed?: boolean; _repeat?: unknown; _idleTimeout?: number }
  return t._destroyed === true || (t._idleTimeout === -1 && !t._repeat)
}
