/**
 * One process of the fleet test: calls a local HTTP "provider" one call at a time through a
 * circuit guard — on a shared Redis breaker (MODE=redis) or on its own in-memory one
 * (MODE=memory) — and tells the parent about every call over IPC until told to stop.
 * Run with: node --experimental-transform-types --import ../../helpers/register-ts.mjs fleet-worker.ts
 */
import { Redis } from 'ioredis'
import { RedisCircuitBackend } from '../../../src/circuit/backends/redis/index.js'
import { circuitGuard } from '../../../src/circuit/circuit-guard.js'
import { isBrokenCircuitError } from '../../../src/core/errors/broken-circuit-error.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`fleet-worker: ${name} is not set`)
  return value
}

const mode = env('FLEET_MODE')
const providerUrl = env('FLEET_PROVIDER_URL')
const threshold = Number(env('FLEET_THRESHOLD'))
const recoveryMs = Number(env('FLEET_RECOVERY_MS'))
const pauseMs = Number(process.env.FLEET_PAUSE_MS ?? '5')

const client =
  mode === 'redis' ? new Redis({ port: Number(env('FLEET_REDIS_PORT')), lazyConnect: true }) : undefined
const backend =
  client === undefined
    ? undefined
    : new RedisCircuitBackend({ client, prefix: env('FLEET_PREFIX'), logger: { warn: () => {} } })
const guard = circuitGuard({
  service: 'provider',
  threshold,
  recoveryMs,
  maxRecoveryMs: recoveryMs,
  ...(backend ? { backend } : {}),
})

let stopping = false
process.on('message', (message) => {
  if (message === 'stop') stopping = true
})

const send = (message: unknown): Promise<void> =>
  new Promise((resolve) => process.send!(message, () => resolve()))

async function main(): Promise<void> {
  await backend?.ready()
  await send({ type: 'ready' })
  while (!stopping) {
    const outcome = await guard
      .execute(async ({ signal }) => {
        const response = await fetch(providerUrl, { signal })
        await response.arrayBuffer()
        if (!response.ok)
          throw Object.assign(new Error(`provider ${response.status}`), { status: response.status })
        return 'ok'
      })
      .then(
        () => 'ok',
        (error: unknown) => (isBrokenCircuitError(error) ? 'rejected' : 'failed'),
      )
    await send({ type: 'call', outcome })
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  await backend?.close()
  client?.disconnect()
  process.disconnect()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
