import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/demo/cli.js'
import { DEMO_DEFAULTS, DemoArgsError, parseDemoArgs } from '../../src/demo/cli-args.js'

/** Runs the command line and keeps what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

describe('demo command line', () => {
  it('defaults: 20 s, 16 sessions, seed 1, a free metrics port, one process', () => {
    expect(parseDemoArgs([])).toEqual({ ...DEMO_DEFAULTS, redis: undefined, help: false })
    expect(
      parseDemoArgs(['--duration', '2.5', '--sessions', '3', '--seed', '9', '--metrics-port', '9464']),
    ).toMatchObject({ durationS: 2.5, sessions: 3, seed: 9, metricsPort: 9464 })
    expect(parseDemoArgs(['--redis', 'redis://127.0.0.1:6380', '--workers', '4'])).toMatchObject({
      redis: 'redis://127.0.0.1:6380',
      workers: 4,
    })
  })

  it('a bad --duration is refused with a message naming the flag, the range and the value', () => {
    for (const bad of ['abc', '0', '-5', '1', '601', 'Infinity', '', '20s']) {
      expect(() => parseDemoArgs([`--duration=${bad}`])).toThrow(DemoArgsError)
      expect(() => parseDemoArgs([`--duration=${bad}`])).toThrow(
        `--duration must be a number of seconds from 2 to 600, got ${JSON.stringify(bad)}`,
      )
    }
  })

  it('other bad flags are refused the same way', () => {
    expect(() => parseDemoArgs(['--sessions', '2.5'])).toThrow(
      '--sessions must be an integer from 1 to 200, got "2.5"',
    )
    expect(() => parseDemoArgs(['--metrics-port', '70000'])).toThrow('--metrics-port must be an integer')
    expect(() => parseDemoArgs(['--workers', '2'])).toThrow('--workers needs --redis <url>')
    expect(() => parseDemoArgs(['--redis', 'localhost:6379'])).toThrow(
      '--redis must be a redis:// or rediss:// URL, got "localhost:6379"',
    )
    expect(() => parseDemoArgs(['--redis', 'redis://x', '--workers', '0'])).toThrow(
      '--workers must be an integer',
    )
    expect(() => parseDemoArgs(['--redis', 'redis://x', '--workers', '3', '--sessions', '2'])).toThrow(
      '--sessions must be at least --workers (every worker runs agents), got 2 sessions for 3 workers',
    )
    expect(() => parseDemoArgs(['--durations', '5'])).toThrow(/Unknown option '--durations'/)
    expect(() => parseDemoArgs(['--duration'])).toThrow(/argument missing/)
    expect(() => parseDemoArgs(['extra'])).toThrow(DemoArgsError)
  })

  it('the command exits 2 on a bad flag, printing the reason and the usage, and runs nothing', async () => {
    const { code, out, err } = await cli('--duration', 'soon')
    expect(code).toBe(2)
    expect(out).toEqual([])
    expect(err[0]).toBe('breakwater demo: --duration must be a number of seconds from 2 to 600, got "soon"')
    expect(err[1]).toMatch(/^usage: npm run demo -- \[options\]/)
  })

  it('--help prints the usage and exits 0', async () => {
    const { code, out, err } = await cli('--help')
    expect(code).toBe(0)
    expect(err).toEqual([])
    expect(out.join('\n')).toMatch(/--duration <s>.*\n.*--sessions <n>/)
  })

  it('an unreachable Redis fails the run with exit code 1 and says which URL', async () => {
    const { code, err } = await cli('--redis', 'redis://127.0.0.1:1', '--duration', '2')
    expect(code).toBe(1)
    expect(err.join('\n')).toMatch(
      /breakwater demo failed: Error: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/,
    )
  })
})
