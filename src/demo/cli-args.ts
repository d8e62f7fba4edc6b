import { parseArgs } from 'node:util'

/** What `npm run demo -- <flags>` asks for. */
export interface DemoArgs {
  /** How long the scenario runs, in seconds. Default 20. */
  durationS: number
  /** Simulated agent sessions (in fleet mode: in all, spread over the workers). Default 16. */
  sessions: number
  /** Seed of every random choice the agents make (think times, tasks, tool outputs). Default 1. */
  seed: number
  /** Port of the /metrics endpoint on 127.0.0.1; 0 picks a free one. Default 0. */
  metricsPort: number
  /** Redis URL: run the scenario in `workers` processes that share one breaker there. Default none. */
  redis: string | undefined
  /** Worker processes in Redis mode. Default 2. */
  workers: number
  help: boolean
}

export const DEMO_DEFAULTS = Object.freeze({
  durationS: 20,
  sessions: 16,
  seed: 1,
  metricsPort: 0,
  workers: 2,
})

/** A command line the demo cannot run with; `message` says which flag and why. */
export class DemoArgsError extends Error {
  override readonly name = 'DemoArgsError'
}

export const USAGE = `usage: npm run demo -- [options]

  --duration <s>       seconds the scenario runs (2-600)                    default ${DEMO_DEFAULTS.durationS}
  --sessions <n>       concurrent simulated agent sessions (1-200)          default ${DEMO_DEFAULTS.sessions}
  --seed <n>           seed for the agents' random choices (integer)        default ${DEMO_DEFAULTS.seed}
  --metrics-port <p>   port of /metrics on 127.0.0.1 (0 = a free one;       default ${DEMO_DEFAULTS.metricsPort}
                       with --redis, worker i serves on p + i - 1)
  --redis <url>        run in worker processes sharing one Redis breaker    default off
                       and one rate limit budget
  --workers <n>        worker processes with --redis (1-16)                 default ${DEMO_DEFAULTS.workers}
  --help               show this text`

/** Parses and validates the demo's flags; throws DemoArgsError naming the flag and the value. */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string' },
        sessions: { type: 'string' },
        seed: { type: 'string' },
        'metrics-port': { type: 'string' },
        redis: { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    // parseArgs says "Unknown option '--x'" or "Option '--duration <value>' argument missing".
    throw new DemoArgsError((error as Error).message)
  }
  const redis = values.redis as string | undefined
  if (redis !== undefined && !/^rediss?:\/\/\S+$/.test(redis)) {
    throw new DemoArgsError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redis)}`)
  }
  if (values.workers !== undefined && redis === undefined) {
    throw new DemoArgsError(
      '--workers needs --redis <url>: worker processes share their breaker through Redis',
    )
  }
  const args = {
    durationS: number('--duration', values.duration, DEMO_DEFAULTS.durationS, 2, 600, 'a number of seconds'),
    sessions: integer('--sessions', values.sessions, DEMO_DEFAULTS.sessions, 1, 200),
    seed: integer('--seed', values.seed, DEMO_DEFAULTS.seed, 0, 2 ** 32 - 1),
    metricsPort: integer('--metrics-port', values['metrics-port'], DEMO_DEFAULTS.metricsPort, 0, 65_535),
    redis,
    workers: integer('--workers', values.workers, DEMO_DEFAULTS.workers, 1, 16),
    help: values.help === true,
  }
  if (redis !== undefined && args.sessions < args.workers) {
    throw new DemoArgsError(
      `--sessions must be at least --workers (every worker runs agents), got ${args.sessions} sessions for ${args.workers} workers`,
    )
  }
  return args
}

function number(
  flag: string,
  raw: unknown,
  fallback: number,
  min: number,
  max: number,
  what = 'a number',
): number {
  if (raw === undefined) return fallback
  const text = String(raw).trim()
  const value = text === '' ? Number.NaN : Number(text)
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new DemoArgsError(`${flag} must be ${what} from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

function integer(flag: string, raw: unknown, fallback: number, min: number, max: number): number {
  const value = number(flag, raw, fallback, min, max, 'an integer')
  if (!Number.isInteger(value)) {
    throw new DemoArgsError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}
