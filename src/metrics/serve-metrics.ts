import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { errorFields, type Logger, resolveLogger, type LoggerOption } from '../core/logger.js'
import { optionalNumber, optionalString, requireOptions } from '../core/validate.js'

const OWNER = 'serveMetrics'

export interface ServeMetricsOptions {
  /** TCP port; 0 picks a free one (read it from `url`). An integer 0–65535. Default 0. */
  port?: number
  /** Interface to listen on. Default `'127.0.0.1'` (loopback only: expose it deliberately). */
  host?: string
  /** Hears about a scrape whose collection failed (answered 500), with `{ url, error }`. Default `console`. */
  logger?: LoggerOption
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://<host>:<port>/metrics` */
  readonly url: string
  /** Stops listening and closes open (keep-alive) connections; resolves when the server is closed. */
  close(): Promise<void>
}

/**
 * Serves `registry` at `GET /metrics` in the Prometheus text format on a tiny `node:http`
 * server. For demos, workers without a web framework, and tests; an app that has an HTTP server
 * can instead answer `await registry.metrics()` with `registry.contentType` on its own route.
 */
export async function serveMetrics(
  registry: Registry,
  options?: ServeMetricsOptions,
): Promise<MetricsServer> {
  if (typeof (registry as Partial<Registry> | undefined)?.metrics !== 'function') {
    throw new TypeError(`${OWNER}: registry must be a prom-client Registry, got ${String(registry)}`)
  }
  const o = requireOptions<ServeMetricsOptions>(OWNER, options, true)
  const port = optionalNumber(OWNER, 'port', o.port, 0, { integer: true, min: 0, max: 65_535 })
  const host = optionalString(OWNER, 'host', o.host) ?? '127.0.0.1'
  const logger = resolveLogger(OWNER, o.logger)

  const server = createServer((req, res) => {
    void answer(registry, req, res, logger)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // A scraper keeps its connection alive; without this, close() would wait for it to leave.
        server.closeAllConnections()
      })
      return closing
    },
  }
}

async function answer(
  registry: Registry,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n')
    return
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
    return
  }
  try {
    const body = await registry.metrics()
    res.writeHead(200, { 'content-type': registry.contentType })
    res.end(req.method === 'HEAD' ? undefined : body)
  } catch (error) {
    logger.error('breakwater: collecting metrics for a scrape failed', {
      component: 'serveMetrics',
      ...errorFields(error),
    })
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`)
  }
}
