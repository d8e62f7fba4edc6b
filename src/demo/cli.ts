import { DemoArgsError, parseDemoArgs, USAGE } from './cli-args.js'
import { runFleet } from './fleet.js'
import { runDemo } from './run-demo.js'
import { SERVICES } from './scenario.js'
import { openedAndClosed, type DemoSummary } from './summary.js'

export interface CliIo {
  out(line: string): void
  err(line: string): void
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }

/**
 * `npm run demo -- <flags>`: runs the scenario and resolves with the exit code — 0 when the run
 * showed what it is meant to show, 1 when it failed or did not, 2 for a bad command line, 130 when
 * `interrupt` ended it early (the summary of what ran is printed all the same).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = consoleIo,
  interrupt?: AbortSignal,
): Promise<number> {
  let args
  try {
    args = parseDemoArgs(argv)
  } catch (error) {
    if (!(error instanceof DemoArgsError)) throw error
    io.err(`breakwater demo: ${error.message}`)
    io.err(USAGE)
    return 2
  }
  if (args.help) {
    io.out(USAGE)
    return 0
  }
  try {
    const options = { ...args, out: io.out, ...(interrupt && { signal: interrupt }) }
    const summary =
      args.redis === undefined ? await runDemo(options) : await runFleet({ ...options, redis: args.redis })
    if (interrupt?.aborted) return 130
    const missing = missingEvidence(summary)
    if (missing.length > 0) {
      const perProcess = args.sessions / (args.redis === undefined ? 1 : args.workers)
      const why =
        perProcess < 6 || args.durationS < 4
          ? 'too few sessions per process or too short a run for every act; the defaults show them all'
          : 'a machine too busy to keep up?'
      io.err(`breakwater demo: the run did not show ${missing.join(', ')} (${why})`)
      return 1
    }
    return 0
  } catch (error) {
    io.err(
      `breakwater demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return 1
  }
}

/** What every run must show; a run that misses one says so instead of passing quietly. */
export function missingEvidence(summary: DemoSummary): string[] {
  const c = summary.counters
  const missing: string[] = []
  if (c.retries === 0) missing.push('retries')
  if (!openedAndClosed(summary, SERVICES[0])) missing.push(`the ${SERVICES[0]} breaker opening and closing`)
  if (c.shed === 0) missing.push('shed load')
  if (c.joins === 0) missing.push('dedupe joins')
  if (c.compactions === 0) missing.push('compactions')
  if (c.waits === 0) missing.push("calls waiting for the provider's budget")
  return missing
}
