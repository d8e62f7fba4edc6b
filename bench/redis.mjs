/**
 * Redis breaker: Redis commands per call (INFO commandstats) for success, failure and open, and
 * the latency it adds over the in-memory backend. Starts its own redis-server on a free loopback
 * port (never 6379), with no persistence, and stops it afterwards.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { circuitGuard, isBrokenCircuitError } from 'breakwater'
import { Redis } from 'ioredis'
import { RedisCircuitBackend } from '../dist/circuit/backends/redis/index.js'
import { compareAsync } from './lib/measure.mjs'

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address()
        server.close(() => resolve(port))
      })
    })
    if (port !== 6379) return port
  }
}

export async function startRedis() {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-bench-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  )
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 })
  // Refused connections while the server starts are expected; the loop below retries.
  client.on('error', () => undefined)
  for (let i = 0; ; i++) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch (error) {
      if (i > 50) throw error
      client.disconnect()
      await sleep(100)
    }
  }
  const version = (await client.info('server')).match(/redis_version:(\S+)/)?.[1]
  return {
    port,
    client,
    version,
    async stop() {
      client.disconnect()
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Total commands Redis executed since the last reset, without the measuring commands themselves. */
async function commandsSinceReset(admin) {
  const info = await admin.info('commandstats')
  let total = 0
  const by = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info' || m[1] === 'config|resetstat' || m[1] === 'config') continue
    by[m[1]] = Number(m[2])
    total += Number(m[2])
  }
  return { total, by }
}

const ok = async () => 'ok'
const fail = async () => {
  throw Object.assign(new Error('HTTP 500'), { status: 500 })
}

export async function redisBench({ quick = false } = {}) {
  const redis = await startRedis()
  const admin = redis.client
  const client = new Redis({ port: redis.port, host: '127.0.0.1' })
  const backend = new RedisCircuitBackend({ client, prefix: 'bench' })
  await backend.ready()
  const n = quick ? 200 : 2_000
  const perCall = {}
  try {
    const scenarios = [
      ['success (closed)', { service: 'success', threshold: 5 }, ok],
      // A threshold it never reaches: every failure is counted while the breaker stays closed.
      ['failure (closed, counted)', { service: 'failure', threshold: 1_000_000 }, fail],
      ['open (fail fast)', { service: 'open', threshold: 5 }, ok],
    ]
    for (const [name, options, fn] of scenarios) {
      const guard = circuitGuard({ ...options, recoveryMs: 600_000, backend })
      if (name.startsWith('open')) await guard.isolate()
      for (let i = 0; i < 20; i++) await guard.execute(fn).catch(() => undefined) // warm the cache
      await backend.whenIdle()
      await admin.config('RESETSTAT')
      let rejected = 0
      for (let i = 0; i < n; i++) {
        await guard.execute(fn).catch((error) => {
          if (isBrokenCircuitError(error)) rejected++
        })
      }
      await backend.whenIdle()
      const { total, by } = await commandsSinceReset(admin)
      perCall[name] = { perCall: total / n, by, rejected, n }
    }

    const memory = circuitGuard({ service: 'latency', threshold: 5, recoveryMs: 30_000 })
    const shared = circuitGuard({ service: 'latency', threshold: 5, recoveryMs: 30_000, backend })
    const [mem, red] = await compareAsync(
      [
        { name: 'in-memory backend', op: () => memory.execute(ok) },
        { name: 'Redis backend', op: () => shared.execute(ok) },
      ],
      quick ? { rounds: 3, batchMs: 20, warmupMs: 100 } : { rounds: 9, batchMs: 50 },
    )
    await backend.whenIdle()
    return { version: redis.version, perCall, memoryNs: mem.nsPerOp, redisNs: red.nsPerOp }
  } finally {
    await backend.close()
    client.disconnect()
    await redis.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await redisBench({ quick: process.argv.includes('--quick') }), null, 2))
