/**
 * A real Prometheus server for tests: the Debian `prometheus` binary on a free loopback port, with
 * a temp config and temp storage, scraping the given targets; stopped and removed afterwards.
 * Never skipped: a missing binary fails with how to install it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort } from './redis-server.js'

const INSTALL_HINT =
  'install it with `apt-get install prometheus` (or run bash scripts/install-system-deps.sh)'

/** Finds `prometheus` or `promtool` (PATH, /usr/bin, /usr/local/bin); throws saying how to install it. */
export function findPrometheusBinary(name: 'prometheus' | 'promtool'): string {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin']
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name)
  }
  throw new Error(`${name} not found: ${INSTALL_HINT}`)
}

export interface PrometheusOptions {
  /** `host:port` targets scraped at `/metrics`. */
  targets: string[]
  /** Scrape (and rule evaluation) interval in seconds. Default 1. */
  scrapeIntervalS?: number
  /** Rule files (alerting rules) to load, evaluated every scrape interval. Default none. */
  ruleFiles?: string[]
}

/** One result of an instant query. */
export interface QuerySample {
  metric: Record<string, string>
  value: [number, string]
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Runs an instant query through `/api/v1/query`; throws on an API error (e.g. a PromQL syntax error). */
  query(expr: string): Promise<QuerySample[]>
  /** `/api/v1/label/<label>/values?match[]=<match>` */
  labelValues(label: string, match: string): Promise<string[]>
  /** Resolves once every target has been scraped successfully at least `scrapes` more times. */
  waitForScrapes(scrapes?: number): Promise<void>
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its temp dir. */
  stop(): Promise<void>
}

/** GET over a fresh connection (no keep-alive agent, so nothing outlives the test). */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

interface ApiAnswer<T> {
  status: 'success' | 'error'
  data: T
  error?: string
}

/** Starts Prometheus; resolves once it is ready (`/-/ready`). */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = findPrometheusBinary('prometheus')
  const interval = `${options.scrapeIntervalS ?? 1}s`
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      ...(options.ruleFiles?.length ? ['rule_files:', ...options.ruleFiles.map((f) => `  - '${f}'`)] : []),
      'scrape_configs:',
      '  - job_name: breakwater',
      `    scrape_interval: ${interval}`,
      `    scrape_timeout: ${interval}`,
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const done = exited(child)
      child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))])
      clearTimeout(timer)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await done
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    for (let waited = 0; ; waited += 50) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`)
      const ready = await httpGet(`${url}/-/ready`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ready) break
      if (waited > 15_000) throw new Error(`prometheus did not become ready in 15 s:\n${log}`)
      await pause(50)
    }
  } catch (error) {
    await stop()
    throw error
  }

  async function api<T>(path: string): Promise<T> {
    const { body } = await httpGet(`${url}${path}`)
    const answer = JSON.parse(body) as ApiAnswer<T>
    if (answer.status !== 'success') throw new Error(`prometheus ${path}: ${answer.error ?? body}`)
    return answer.data
  }

  interface Target {
    health: string
    lastScrape: string
  }
  const scrapedAt = async (): Promise<Target[]> =>
    (await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets

  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: QuerySample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      )
      return data.result
    },
    labelValues(label, match) {
      return api<string[]>(
        `/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`,
      )
    },
    async waitForScrapes(scrapes = 1) {
      const seen = new Map<number, string>()
      const counts = new Map<number, number>()
      for (let waited = 0; ; waited += 50) {
        const targets = await scrapedAt()
        targets.forEach((t, i) => {
          if (t.health === 'up' && t.lastScrape !== seen.get(i)) {
            if (seen.has(i)) counts.set(i, (counts.get(i) ?? 0) + 1)
            seen.set(i, t.lastScrape)
          }
        })
        if (targets.length > 0 && targets.every((_, i) => (counts.get(i) ?? 0) >= scrapes)) return
        if (waited > 15_000)
          throw new Error(`targets not scraped ${scrapes} more time(s): ${JSON.stringify(targets)}`)
        await pause(50)
      }
    },
    stop,
  }
}

/** Runs `promtool` with `args` (e.g. `check rules <file>`); resolves with its exit code and output. */
export function promtool(...args: string[]): Promise<{ code: number | null; output: string }> {
  const binary = findPrometheusBinary('promtool')
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
  })
}

/** Runs `promtool check metrics` on an exposition text; resolves with its exit code and output. */
export function promtoolCheckMetrics(exposition: string): Promise<{ code: number | null; output: string }> {
  const binary = findPrometheusBinary('promtool')
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
    child.stdin?.end(exposition)
  })
}
