/**
 * `--redis <url> --workers N` (DESIGN §6): real worker processes, one real redis-server, one fake
 * provider. The workers' breakers share one state in Redis. (How much a shared breaker saves a
 * dead provider, against per-process breakers, is measured in test/circuit/redis-fleet.test.ts.)
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runFleet } from '../../src/demo/fleet.js'
import { SERVICES } from '../../src/demo/scenario.js'
import { type RedisServer, startRedis, testPrefix } from '../helpers/redis-server.js'

const entry = {
  path: fileURLToPath(new URL('../../src/demo/worker-main.ts', import.meta.url)),
  // The sources run as they are: the built demo forks dist/demo/worker-main.js instead.
  execArgv: [
    '--experimental-transform-types',
    '--no-warnings',
    '--import',
    fileURLToPath(new URL('../helpers/register-ts.mjs', import.meta.url)),
  ],
}

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => redis.stop())

describe('npm run demo -- --redis <url> --workers 2', () => {
  it('§6 two worker processes run the scenario on one breaker and one rate limit shared through Redis and report to the parent', async () => {
    const prefix = testPrefix('demo')
    const lines: string[] = []
    const summary = await runFleet({
      durationS: 5,
      sessions: 8,
      seed: 3,
      metricsPort: 0,
      redis: redis.url,
      workers: 2,
      prefix,
      workerEntry: entry,
      out: (line) => lines.push(line),
    })

    expect(summary.mode).toBe('fleet')
    // The rate-limit act: one budget in Redis for both workers paces them; nothing shed, no 429 to a caller.
    expect(summary.counters.waits).toBeGreaterThan(0)
    expect(summary.counters.budgetShedForeground).toBe(0)
    expect(summary.counters.budget429s).toBe(0)
    expect(summary.counters.budgetFailed).toBe(0)
    expect(summary.processes).toBe(2)
    expect(summary.metricsUrls).toHaveLength(2)
    expect(summary.counters.calls).toBeGreaterThan(0)
    expect(summary.counters.retries).toBeGreaterThan(0)
    // Every worker saw the outage service's breaker open and close again…
    for (const seen of summary.transitions) {
      const openai = seen.filter((t) => t.service === SERVICES[0])
      const opened = openai.findIndex((t) => t.to === 'open')
      expect(opened).toBeGreaterThanOrEqual(0)
      expect(openai.slice(opened).some((t) => t.to === 'closed')).toBe(true)
    }
    // …and the state it saw is the one kept in Redis, under the run's prefix, never a local fallback.
    expect(summary.shared).toEqual({
      prefix,
      states: Object.fromEntries(SERVICES.map((s) => [s, 'closed'])),
      backendFallbacks: 0,
    })
    const client = redis.client()
    const stored = await client.hgetall(`${prefix}:cb:{${SERVICES[0]}}`)
    // Closed, or open for a cooldown (a 429 of the rate-limit act) whose time has passed: a cooldown
    // stays written as open until the next write, and every process sees it closed once it is over.
    const [seconds, micros] = await client.time()
    const serverMs = Number(seconds) * 1_000 + Number(micros) / 1_000
    const cooledDown = stored.st === 'open' && stored.co === '1' && Number(stored.ou) <= serverMs
    expect(stored.st === 'closed' || cooledDown, JSON.stringify(stored)).toBe(true)
    expect(stored.cfg).toBeDefined()
    // The budget the workers shared, learned from the provider's headers, is under the same prefix.
    for (const service of SERVICES) expect(await client.exists(`${prefix}:rl:{${service}}`)).toBe(1)

    // The parent printed one combined table and the summary.
    expect(lines[0]).toMatch(/8 agent sessions in 2 worker processes/)
    expect(lines.filter((l) => /^\s+\d+s /.test(l)).length).toBeGreaterThanOrEqual(5)
    expect(lines).toContain('Summary: ' + lines.find((l) => l.startsWith('Summary: '))!.slice(9))
    expect(lines.some((l) => l.includes('2 worker processes sharing one Redis breaker'))).toBe(true)
  }, 60_000)
})
