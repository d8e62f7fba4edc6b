/**
 * Fails the test that leaks: an unhandled promise rejection, or a timer still running after the
 * test ended (counted against the timers alive when it started).
 */
import { afterEach, beforeEach, expect } from 'vitest'

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason)
})

let timersBefore = 0
const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

beforeEach(() => {
  unhandled.length = 0
  timersBefore = liveTimers()
})

afterEach(async () => {
  // Let rejections that are about to be reported surface before judging.
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  const leaked = liveTimers() - timersBefore
  const rejections = unhandled.splice(0)
  expect(rejections, 'unhandled promise rejections').toEqual([])
  expect(leaked, 'timers left running by the test').toBeLessThanOrEqual(0)
})
