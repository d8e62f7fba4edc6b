/** Contract rules about the half-open probe (C3): one at a time, leases, release, renewal. */
import { expect, it } from 'vitest'
import type { CircuitConfig } from '../../src/circuit/circuit-backend.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { deferred, flush } from '../helpers/deferred.js'
import { type ContractContext, serverError } from './contract-context.js'

export function probeContract(t: ContractContext): void {
  it('C3 half-open admits one probe at a time; others fail fast, never queued behind it', async () => {
    const g = t.guard()
    await t.openIt(g)
    await t.waitFor(t.R)
    const probe = deferred<string>()
    let probes = 0
    const first = g.execute(() => {
      probes++
      return probe.promise
    })
    await t.settle()
    const second = await g.execute(() => 'second').catch((e: unknown) => e)
    expect(second).toMatchObject({ service: t.service, retryAfterMs: 0 })
    expect(isBrokenCircuitError(second)).toBe(true)
    probe.resolve('probe')
    expect(await first).toBe('probe')
    await t.settle()
    expect(probes).toBe(1)
    expect(await g.state()).toBe('closed')
  })

  it('C3 a probe whose outcome is ignored (caller abort) releases its lease', async () => {
    const g = t.guard()
    await t.openIt(g)
    await t.waitFor(t.R)
    const controller = new AbortController()
    const first = g.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      {
        signal: controller.signal,
      },
    )
    await t.settle()
    controller.abort(new Error('caller left'))
    await expect(first).rejects.toThrow('caller left')
    await t.settle()
    expect(await g.state()).toBe('half-open')
    expect(await t.succeed(g)).toBe('ok') // the next caller may probe at once
    expect(await g.state()).toBe('closed')
  })

  it('C3 an expired probe lease frees the probe; the stale prober is not counted', async () => {
    const g = t.guard({ probeLeaseMs: t.R })
    const config: CircuitConfig = g.config
    await t.openIt(g)
    await t.waitFor(t.R)
    const a = await t.backend.admit(t.service, config)
    expect(a.kind).toBe('probe')
    expect((await t.backend.admit(t.service, config)).kind).toBe('deny')
    await t.waitFor(t.R)
    const b = await t.backend.admit(t.service, config)
    expect(b.kind).toBe('probe')
    await t.backend.record(t.service, config, { outcome: 'success', token: (a as { token: string }).token })
    expect((await t.backend.snapshot(t.service, config)).state).toBe('half-open')
    await t.backend.record(t.service, config, { outcome: 'success', token: (b as { token: string }).token })
    expect((await t.backend.snapshot(t.service, config)).state).toBe('closed')
  })

  it('C3 renew keeps a probe lease alive; a held probe keeps it until the hold settles', async () => {
    const g = t.guard({ probeLeaseMs: t.R })
    await t.openIt(g)
    await t.waitFor(t.R)
    const stream = deferred()
    const held = g.execute((ctx) => {
      ctx.hold(stream.promise)
      return 'stream'
    })
    expect(await held).toBe('stream')
    await t.waitFor(2 * t.R) // twice the lease: only renewal keeps it
    const other = await g.execute(() => 'other').catch((e: unknown) => e)
    expect(isBrokenCircuitError(other)).toBe(true)
    stream.reject(serverError()) // the stream fails after content: counted at settlement
    await t.settle()
    await flush()
    expect(await g.state()).toBe('open')
  })
}
