/**
 * The main job end to end (DESIGN §6): the scenario runs in this process for a few real seconds —
 * real HTTP, the real SDK clients, a real /metrics endpoint — and its summary must show every act.
 */
import { describe, expect, it } from 'vitest'
import { missingEvidence, runCli } from '../../src/demo/cli.js'
import { runDemo } from '../../src/demo/run-demo.js'
import { SERVICES } from '../../src/demo/scenario.js'
import { openedAndClosed } from '../../src/demo/summary.js'

describe('npm run demo (one process)', () => {
  it("§6 shows retries, a breaker that opens and closes, shed load, dedupe joins, compactions and calls paced by the provider's budget, serves /metrics while it runs, and closes everything", async () => {
    const lines: string[] = []
    let metricsUrl = ''
    let providerUrl = ''
    let scrape: Promise<{ status: number; body: string }> | undefined
    const paced: number[] = []
    const summary = await runDemo({
      durationS: 6,
      sessions: 16,
      seed: 7,
      metricsPort: 0,
      out: (line) => lines.push(line),
      onStart: (info) => {
        metricsUrl = info.metricsUrls[0]!
        providerUrl = info.providerUrl
      },
      onRow: (row) => {
        paced.push(row.paced)
        // Scraped mid-run, after the 429 burst: the counters have moved by then.
        if (row.t === 2)
          scrape = fetch(metricsUrl).then(async (r) => ({ status: r.status, body: await r.text() }))
      },
    })

    const c = summary.counters
    expect(c.retries).toBeGreaterThan(0)
    // D6 R7: the 429 burst ends with every foreground call answered.
    expect(c.burstCalls).toBeGreaterThan(0)
    expect(c.burstFailed).toBe(0)
    expect(summary.providerRateLimited).toBeGreaterThan(0)
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}429 burst +\d+ foreground calls .*every one answered$/),
    )
    expect(openedAndClosed(summary, SERVICES[0])).toBe(true)
    expect(c.shed).toBeGreaterThan(0)
    expect(c.shedBackground).toBe(c.shed) // foreground work queues; only background work is shed
    expect(c.joins).toBeGreaterThan(0)
    expect(c.compactions).toBeGreaterThan(0)
    // L1 L3: demand above the provider's budget is paced — calls wait for it, none is shed, and
    // no 429 reaches a caller.
    expect(c.waits).toBeGreaterThan(0)
    expect(c.budgetCalls).toBeGreaterThan(0)
    expect(c.budgetFailed).toBe(0)
    expect(c.budgetShedForeground).toBe(0)
    expect(c.budget429s).toBe(0)
    expect(summary.providerOverBudget).toBeLessThanOrEqual(Math.ceil(0.02 * summary.providerRequests))
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}rate limit +[1-9][\d,]* calls waited for the provider's budget/),
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        /foreground calls started in the act: every one answered, 0 shed; 429s that reached a caller: 0$/,
      ),
    )
    expect(missingEvidence(summary)).toEqual([])
    // The breaker and dedupe keep calls away from the provider; each retry adds one request.
    expect(summary.providerRequests).toBeLessThan(c.calls)
    expect(summary.providerServerErrors).toBeGreaterThan(0)
    expect(summary.latency.count).toBe(c.ok)
    expect(summary.latency.p95Ms).toBeGreaterThanOrEqual(summary.latency.p50Ms)

    const metrics = await scrape!
    expect(metrics.status).toBe(200)
    // The wrapped clients' answers feed the token and time-to-first-token series.
    expect(metrics.body).toMatch(
      /^breakwater_tokens_total\{service="anthropic:claude-3-5-haiku-latest",kind="output"\} [1-9]/m,
    )
    expect(metrics.body).toMatch(
      /^breakwater_time_to_first_token_seconds_count\{service="openai:gpt-4o-mini"\} [1-9]/m,
    )
    expect(metrics.body).toMatch(
      /^breakwater_calls_total\{service="openai:gpt-4o-mini",outcome="success"\} [1-9]/m,
    )
    expect(metrics.body).toMatch(
      /^breakwater_dedupe_requests_total\{service="openai:gpt-4o-mini",result="joined"\} [1-9]/m,
    )

    const header = lines.findIndex((l) => /^\s+t phase\s+calls/.test(l))
    const rows = lines.slice(header + 1).filter((l) => /^\s+\d+s /.test(l))
    expect(rows.length).toBeGreaterThanOrEqual(4)
    expect(rows.some((l) => l.includes('OPEN'))).toBe(true)
    expect(rows.some((l) => / rate limit /.test(l))).toBe(true)
    expect(paced.some((n) => n > 0)).toBe(true) // the paced column shows the waits as they happen
    expect(lines).toContain(`  metrics   ${metricsUrl}`)
    expect(lines.some((l) => l.startsWith('Summary: '))).toBe(true)

    // Everything it started is closed: the metrics endpoint and the fake provider are gone.
    await expect(fetch(metricsUrl)).rejects.toThrow()
    await expect(fetch(`${providerUrl}/v1/models`)).rejects.toThrow()
  }, 30_000)

  it('§6 Ctrl-C ends the scenario early: the summary of what ran is printed, everything is closed, exit code 130', async () => {
    const out: string[] = []
    const interrupt = new AbortController()
    const code = await runCli(
      ['--duration', '60', '--sessions', '4'],
      {
        out: (line) => {
          out.push(line)
          if (/^\s+1s /.test(line)) interrupt.abort() // after the first row of the table
        },
        err: (line) => out.push(line),
      },
      interrupt.signal,
    )
    expect(code).toBe(130)
    const summary = out.find((l) => l.startsWith('Summary: '))
    expect(summary).toMatch(/^Summary: \d+\.\ds, 4 agent sessions, one process$/)
    expect(Number(/(\d+\.\d)s/.exec(summary!)![1])).toBeLessThan(5) // not the 60 s asked for
  }, 20_000)
})
