/**
 * Real redis-server processes for tests: each on a free loopback port with its own temp dir, no
 * persistence, stopped afterwards. Never port 6379, never a shared server, never a mock.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { type Cluster, Redis, type RedisOptions } from 'ioredis'
import { closeConnection } from '../../src/redis-common/connection.js'

const INSTALL_HINT =
  'install it with `apt-get install redis-server` (or run bash scripts/install-system-deps.sh)'
const DEFAULT_PORT = 6379

/** Finds a binary on PATH (or in /usr/bin, /usr/local/bin); throws saying how to install it. */
export function findRedisBinary(name: 'redis-server' | 'redis-cli'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name)
  }
  throw new Error(`${name} not found: ${INSTALL_HINT}`)
}

/** A free TCP port on 127.0.0.1 (never 6379). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        const p = typeof address === 'object' && address ? address.port : 0
        server.close(() => resolve(p))
      })
    })
    if (port !== DEFAULT_PORT && port > 0) return port
  }
}

/** Sends one PING over a raw socket; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    let answer = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('error', () => done(false))
    socket.on('data', (chunk) => {
      answer += chunk.toString()
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
  })
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[]
  /** Start with `--enable-debug-command local`. Default false. */
  debugCommand?: boolean
  /** Port to use; default a free one. */
  port?: number
}

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The server's temp dir (removed by stop()). */
  readonly dir: string
  /**
   * A new ioredis client on this server, disconnected by stop(). It does not reconnect by itself
   * (`retryStrategy: () => null`, overridable): a reconnecting ioredis client holds timers that
   * would outlive the test.
   */
  client(options?: RedisOptions): Redis
  /** SIGSTOP: the server keeps its sockets but answers nothing (a hung Redis). */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL, resolves once the process has exited. */
  kill(): Promise<void>
  /** Starts a fresh (empty) server on the same port after kill(); resolves when it answers PING. */
  restart(): Promise<void>
  /** Disconnects the clients it made, stops the server and removes its temp dir. */
  stop(): Promise<void>
}

function spawnServer(binary: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        child.off('exit', onExit)
        resolve(child)
      }
    }
    const onExit = (code: number | null): void => {
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output.slice(-2000)}`))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', onExit)
    child.once('error', reject)
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts a private redis-server; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = findRedisBinary('redis-server')
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-redis-'))
  const port = options.port ?? (await freePort())
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--logfile',
    '',
    ...(options.debugCommand ? ['--enable-debug-command', 'local'] : []),
    ...(options.args ?? []),
  ]
  let child = await spawnServer(binary, args)
  if (!(await ping(port))) throw new Error(`redis-server on port ${port} does not answer PING`)
  const clients = new Set<Redis>()

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    client(clientOptions?: RedisOptions): Redis {
      const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, ...clientOptions })
      // A test that kills the server expects connection errors; they must not crash the run.
      client.on('error', () => {})
      clients.add(client)
      return client
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async kill(): Promise<void> {
      child.kill('SIGKILL')
      await exited(child)
    },
    async restart(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited(child)
      }
      child = await spawnServer(binary, args)
      if (!(await ping(port))) throw new Error(`restarted redis-server on port ${port} does not answer PING`)
    },
    async stop(): Promise<void> {
      await Promise.all([...clients].map(closeClient))
      clients.clear()
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Disconnects an ioredis client (or Cluster) and resolves once its sockets are closed: ioredis
 * keeps a timer per closing socket until then, which the leak guard would count.
 */
export function closeClient(client: Redis | Cluster): Promise<void> {
  // The library's own close: it also waits for a Cluster's node sockets, so no ioredis timer outlives it.
  return closeConnection(client)
}

let prefixCounter = 0

/** A key prefix unique to one test, so tests sharing a server never see each other's keys. */
export function testPrefix(name = 't'): string {
  prefixCounter++
  return `${name}-${process.pid}-${prefixCounter}-${Math.random().toString(36).slice(2, 8)}`
}

/** Reads `INFO commandstats` into `{ command: calls }` (lower-case names, e.g. `evalsha`). */
export async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats')
  const stats: Record<string, number> = {}
  for (const line of info.split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match) stats[match[1]!] = Number(match[2])
  }
  return stats
}
