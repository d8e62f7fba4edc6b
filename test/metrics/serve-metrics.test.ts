import { request } from 'node:http'
import { Gauge, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { instrument } from '../../src/metrics/instrument.js'
import { serveMetrics } from '../../src/metrics/serve-metrics.js'
import { testClock } from '../../src/testing/test-clock.js'
import { httpGet } from '../helpers/prometheus-server.js'

function send(url: string, method: string): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('serveMetrics', () => {
  it('M20 serves the registry at GET /metrics in the Prometheus text format; 404 elsewhere, 405 for other methods', async () => {
    const registry = new Registry()
    instrument(
      registry,
      circuitGuard({ service: 'llm', threshold: 3, recoveryMs: 1_000, clock: testClock() }),
    )
    const server = await serveMetrics(registry)
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const answer = await httpGet(server.url)
      expect(answer.status).toBe(200)
      expect(answer.body).toContain('# TYPE breakwater_circuit_state gauge')
      expect(answer.body).toContain('breakwater_circuit_state{service="llm",state="closed"} 1')
      expect((await send(server.url, 'GET')).type).toBe(registry.contentType)
      expect((await httpGet(server.url.replace('/metrics', '/'))).status).toBe(404)
      expect((await send(server.url, 'POST')).status).toBe(405)
      expect((await send(server.url, 'HEAD')).status).toBe(200)
    } finally {
      await server.close()
    }
    await expect(httpGet(server.url)).rejects.toThrow() // closed
    await server.close() // idempotent
  })

  it('M21 invalid arguments throw naming the option', async () => {
    await expect(serveMetrics(undefined as unknown as Registry)).rejects.toThrow(TypeError)
    await expect(serveMetrics(new Registry(), { port: 70_000 })).rejects.toThrow(/"port"/)
    await expect(serveMetrics(new Registry(), { host: '' })).rejects.toThrow(/"host"/)
  })

  it('M34 a scrape whose collection fails answers 500 and is logged through the logger option with the error', async () => {
    const registry = new Registry()
    new Gauge({
      name: 'broken_gauge',
      help: 'collect throws',
      registers: [registry],
      collect() {
        throw new Error('sampling failed')
      },
    })
    const logged: unknown[][] = []
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string, f?: object) => logged.push([m, f]) }
    const server = await serveMetrics(registry, { logger })
    try {
      const answer = await httpGet(server.url)
      expect(answer.status).toBe(500)
      expect(logged).toEqual([
        [
          'breakwater: collecting metrics for a scrape failed',
          { component: 'serveMetrics', error: 'sampling failed', errorName: 'Error' },
        ],
      ])
    } finally {
      await server.close()
    }
    await expect(serveMetrics(registry, { logger: 42 as never })).rejects.toThrow(/option "logger"/)
  })
})
