/**
 * Foreground latency while background work saturates a backpressure guard. Real timers: each call
 * "works" for a fixed time with setTimeout, like an I/O-bound provider call.
 *
 * Scenarios, each for `durationMs`:
 * - idle: foreground calls alone;
 * - soft limit: hardLimit 16, softLimit 12, softAction 'shed-background' (llmGuard's policy):
 *   background work is shed at the soft limit and retried after a pause, so 4 slots stay free for
 *   foreground calls;
 * - no soft limit: the same limits with softAction 'warn' and a queue of 256: background work fills
 *   every slot and foreground calls wait in the queue (they go first, but still wait for a slot).
 * Reported: the wait from execute() to fn starting (what the guard adds) and the end-to-end time.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { backpressureGuard, isBackpressureShedError } from 'breakwater'
import { quantile } from './lib/measure.mjs'

const FOREGROUND_WORK_MS = 2
const BACKGROUND_WORK_MS = 10
const FOREGROUND_EVERY_MS = 3
const BACKGROUND_WORKERS = 48

const ms = () => Number(process.hrtime.bigint()) / 1e6

async function scenario(name, guard, background, durationMs) {
  let stop = false
  const bg = { done: 0, shed: 0 }
  const workers = background
    ? Array.from({ length: BACKGROUND_WORKERS }, async () => {
        while (!stop) {
          try {
            await guard.execute(() => sleep(BACKGROUND_WORK_MS), { priority: 'background' })
            bg.done++
          } catch (error) {
            if (!isBackpressureShedError(error)) throw error
            bg.shed++
            await sleep(1) // a shed background job backs off briefly, as a compaction worker would
          }
        }
      })
    : []
  await sleep(50) // let the background reach its steady state
  const waits = []
  const totals = []
  let fgShed = 0
  const calls = []
  const end = ms() + durationMs
  while (ms() < end) {
    const t0 = ms()
    calls.push(
      guard
        .execute(async () => {
          waits.push(ms() - t0)
          await sleep(FOREGROUND_WORK_MS)
        })
        .then(
          () => totals.push(ms() - t0),
          (error) => {
            if (!isBackpressureShedError(error)) throw error
            fgShed++
          },
        ),
    )
    await sleep(FOREGROUND_EVERY_MS)
  }
  await Promise.all(calls)
  stop = true
  await Promise.all(workers)
  return {
    name,
    foreground: totals.length,
    foregroundShed: fgShed,
    waitP50: quantile(waits, 0.5),
    waitP99: quantile(waits, 0.99),
    totalP50: quantile(totals, 0.5),
    totalP99: quantile(totals, 0.99),
    backgroundDone: bg.done,
    backgroundShed: bg.shed,
  }
}

export async function latency({ durationMs = 3_000 } = {}) {
  const soft = { hardLimit: 16, softLimit: 12 }
  return [
    await scenario(
      'foreground alone',
      backpressureGuard({ ...soft, softAction: 'shed-background' }),
      false,
      durationMs,
    ),
    await scenario(
      "background saturating, softAction 'shed-background' (soft limit 12 of 16)",
      backpressureGuard({ ...soft, softAction: 'shed-background' }),
      true,
      durationMs,
    ),
    await scenario(
      "background saturating, softAction 'warn' (queue 256, foreground first)",
      backpressureGuard({ ...soft, softAction: 'warn', maxQueue: 256 }),
      true,
      durationMs,
    ),
  ]
}

export const LATENCY_SETUP = {
  FOREGROUND_WORK_MS,
  BACKGROUND_WORK_MS,
  FOREGROUND_EVERY_MS,
  BACKGROUND_WORKERS,
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await latency())
