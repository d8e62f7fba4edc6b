import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compactionWorker,
  isAlreadyRunningError,
  type CompactionWorker,
  type CompactionWorkerOptions,
} from '../../src/pipeline/index.js'
import { RedisCompactionStore } from '../../src/pipeline/redis-compaction-store.js'
import { testClock } from '../../src/testing/test-clock.js'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'
import { bigChat, CALM, controlledSummarizer, POLICY } from './worker-fixtures.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

let prefixSeq = 0
/** A store on a fresh connection with its own key prefix (a process of its own, as far as Redis knows). */
async function store(prefix: string) {
  const client = redis.client({ lazyConnect: true, enableOfflineQueue: false })
  await client.connect()
  return new RedisCompactionStore({ client, prefix })
}

async function worker(prefix: string, extra: Partial<CompactionWorkerOptions> = {}) {
  const control = controlledSummarizer()
  const w = compactionWorker({
    summarizer: control.summarizer,
    fallback: false,
    policy: POLICY,
    clock: testClock(),
    quota: { cooldownMs: 0 },
    signals: { read: () => CALM },
    store: await store(prefix),
    ...extra,
  })
  return { w, calls: control.calls, called: control.called }
}

describe('RedisCompactionStore', () => {
  it('P8 a second worker sharing a Redis store is refused while the first is in flight', async () => {
    const prefix = `t${++prefixSeq}`
    const first = await worker(prefix)
    const second = await worker(prefix)
    const workers: CompactionWorker[] = [first.w, second.w]
    try {
      const messages = bigChat()
      expect((await first.w.session('shared').endTurn(messages))?.reason).toBe('allowed')
      expect(await second.w.session('shared').endTurn(messages)).toMatchObject({
        allowed: false,
        reason: 'pending',
      })
      const manual = await second.w
        .session('shared')
        .compact(messages)
        .catch((e: unknown) => e)
      expect(isAlreadyRunningError(manual)).toBe(true)
      await first.called(1)
      expect(second.calls).toHaveLength(0)
      // Another session is free.
      expect((await second.w.session('other').endTurn(messages))?.reason).toBe('allowed')
      await Promise.all([first.called(1), second.called(1)])
      second.calls[0]!.result.resolve('other summary')
      first.calls[0]!.result.resolve('shared summary')
      await first.w.session('shared').idle()
      // The marker is gone and the attempt and boundary are shared.
      const record = await (await store(prefix)).read('shared')
      expect(record).toMatchObject({ inFlight: false, attempts: 1, cooldownRemainingMs: 0 })
      expect(record.boundaryMessageId).toBe(
        messages.at(-1 - 5)!.id.length > 0 ? record.boundaryMessageId : '',
      )
      expect((await second.w.session('shared').endTurn(messages))?.reason).toBe('allowed')
      await second.called(2)
      second.calls[1]!.result.resolve('second')
      await second.w.session('shared').idle()
      expect((await (await store(prefix)).read('shared')).attempts).toBe(2)
    } finally {
      await Promise.all(workers.map((w) => w.dispose()))
    }
  })

  it('P8 a restarted process does not compact a session in flight; the marker expires and only its holder releases it', async () => {
    const prefix = `t${++prefixSeq}`
    const crashed = await store(prefix)
    expect(await crashed.acquire('s', 'token-of-crashed-process', 120_000)).toBe(true)
    const ttl = await redis.client().pttl(crashed.key('s', 'lock'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(120_000)
    const restarted = await worker(prefix)
    try {
      expect(await restarted.w.session('s').endTurn(bigChat())).toMatchObject({ reason: 'pending' })
      await restarted.w.store.release('s', 'someone-else')
      expect((await restarted.w.store.read('s')).inFlight).toBe(true)
      await crashed.release('s', 'token-of-crashed-process')
      expect((await restarted.w.session('s').endTurn(bigChat()))?.reason).toBe('allowed')
      const lockTtl = await redis.client().pttl(crashed.key('s', 'lock'))
      expect(lockTtl).toBeGreaterThan(120_000) // timeout (120 s) + margin: a crash cannot pin it forever
      expect(lockTtl).toBeLessThanOrEqual(150_000)
    } finally {
      await restarted.w.dispose()
    }
  })

  it('P8 cooldowns live in Redis as expiring keys; keys share one hash tag; options are validated', async () => {
    const prefix = `t${++prefixSeq}`
    const s = await store(prefix)
    await s.startCooldown('c', 30_000)
    const r = await s.read('c')
    expect(r.cooldownRemainingMs).toBeGreaterThan(29_000)
    expect(r.cooldownRemainingMs).toBeLessThanOrEqual(30_000)
    await s.startCooldown('c', 0)
    expect((await s.read('c')).cooldownRemainingMs).toBe(0)
    expect(s.key('a{b}', 'lock')).toBe(`${prefix}:cmp:{a%7Bb%7D}:lock`)
    expect(() => new RedisCompactionStore({ client: redis.client(), prefix: 'x{y}' })).toThrow(/"prefix"/)
    expect(() => new RedisCompactionStore({ client: {} as never })).toThrow(/"client"/)
  })
})
