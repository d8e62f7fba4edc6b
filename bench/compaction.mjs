/**
 * Compaction scenarios (DESIGN.md §8): the 300-turn tool-heavy agent session (read_file / bash
 * results of 5–20 kB, 200k window) and a CJK session, with a summarizer that takes 400 ms a call
 * and a 32k window of its own. Reported: the largest request sent against the window — by the
 * library's default estimate and by a real o200k tokenizer (gpt-tokenizer, counted after the run so
 * it does not weigh on the event loop) — compactions (background / foreground), summarizer calls,
 * trims, the largest summarize request against the summarizer's window, prepareRequest latency, the
 * event loop's largest delay during the session, and the counting time per turn on a 1M-token
 * conversation.
 *
 * The session is the test suite's own driver (test/pipeline/agent-session.ts, run from source
 * through the TS loader, like the fleet bench), so `npm test` runs the same scenario in short form;
 * the library itself is the built package ('breakwater', i.e. dist/).
 */
import { fork } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const register = fileURLToPath(new URL('../test/helpers/register-ts.mjs', import.meta.url))
const TS_LOADER = ['--experimental-transform-types', '--no-warnings', '--import', register]

export const COMPACTION_SETUP = {
  window: 200_000,
  summarizerWindow: 32_000,
  outputTokens: 8_192,
  summarizerLatencyMs: 400,
  modelCallMs: 10,
  /**
   * The session runs ~300× faster than a real one (model calls of 10 ms, turns of ~40 ms), so the background
   * cooldown is scaled down from its 60 s default to keep the same share of turns between two
   * background compactions.
   */
  cooldownMs: 100,
}

/** Runs the scenarios in a child process (see above) and resolves their results. */
export function compaction({ quick = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--run', quick ? 'quick' : 'full'], {
      execArgv: TS_LOADER,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let answer
    child.on('message', (m) => (answer = m))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (answer?.result !== undefined) resolve(answer.result)
      else reject(new Error(`compaction bench: run failed (exit ${code}): ${answer?.error ?? 'no result'}`))
    })
  })
}

async function session(lib, agent, o200k, kind, turns) {
  const { compactionWorker, llmSummarizer, estimateTextTokens } = lib
  const { window, summarizerWindow, outputTokens, summarizerLatencyMs, modelCallMs, cooldownMs } =
    COMPACTION_SETUP
  const sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(resolve, ms)
      signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true })
    })
  const slow = agent.slowSummarizer({
    sleep,
    latencyMs: summarizerLatencyMs,
    count: estimateTextTokens,
    llm: llmSummarizer,
  })
  const worker = compactionWorker({
    summarizer: slow.summarizer,
    policy: { contextWindow: window, summarizerWindow },
    quota: { cooldownMs },
    memoryProbe: () => false,
  })
  const runs = { background: 0, foreground: 0, fallback: 0, trims: 0 }
  worker.onCompleted((e) => {
    runs[e.foreground ? 'foreground' : 'background']++
    if (e.summarizer === 'fallback') runs.fallback++
  })
  worker.onTrimmed(() => runs.trims++)
  const sent = []
  const latencies = []
  const loop = monitorEventLoopDelay({ resolution: 1 })
  let started = performance.now()
  const s = worker.session(kind)
  const result = await agent.runAgentSession({
    session: s,
    kind,
    turns,
    seed: kind === 'cjk' ? 7 : 3,
    contextWindow: window,
    outputTokens,
    // The data is generated before the first turn; only the run itself is measured.
    onStart: () => {
      loop.enable()
      started = performance.now()
    },
    provider: (messages) => void sent.push(messages),
    settle: async (work) => {
      const t = performance.now()
      const out = await work
      latencies.push(performance.now() - t)
      return out
    },
    modelCall: () => new Promise((resolve) => setTimeout(resolve, modelCallMs)),
  })
  const seconds = (performance.now() - started) / 1000
  loop.disable()
  await worker.dispose()
  // Real tokens of every request, counted once per message.
  const cache = new WeakMap()
  const real = (m) => {
    let n = cache.get(m)
    if (n === undefined) {
      n =
        o200k(m.content) + 4 + (m.toolCalls ?? []).reduce((a, c) => a + o200k(c.name) + o200k(c.arguments), 0)
      cache.set(m, n)
    }
    return n
  }
  let peakReal = 0
  let overReal = 0
  for (const messages of sent) {
    const tokens = messages.reduce((a, m) => a + real(m), 0) + outputTokens
    peakReal = Math.max(peakReal, tokens)
    if (tokens > window) overReal++
  }
  latencies.sort((a, b) => a - b)
  return {
    kind,
    turns,
    requests: result.requests,
    violations: result.violations.length,
    peakEstimated: result.peakTokens,
    peakReal,
    overReal,
    ...runs,
    summarizerCalls: slow.prompts.length,
    peakSummarizePrompt: Math.max(0, ...slow.prompts),
    prepareP95Ms: latencies[Math.floor(latencies.length * 0.95)] ?? 0,
    prepareMaxMs: latencies.at(-1) ?? 0,
    maxLoopDelayMs: loop.max / 1e6,
    p99LoopDelayMs: loop.percentile(99) / 1e6,
    seconds,
  }
}

/** Counting per turn on a 1M-token conversation: cold (first count), then one new turn at a time. */
async function counting(lib, text, turns) {
  const { compactionWorker } = lib
  const worker = compactionWorker({ summarizer: { summarize: async () => 'x' }, memoryProbe: () => false })
  const s = worker.session('count')
  const messages = [{ id: 'system', role: 'system', content: 'You are a coding agent.' }]
  let i = 0
  const turn = () => {
    const n = i++
    messages.push(
      { id: `u${n}`, role: 'user', content: text.realisticText('prose', 400, n) },
      {
        id: `a${n}`,
        role: 'assistant',
        content: '',
        toolCalls: [{ id: `c${n}`, name: 'read_file', arguments: `{"path":"src/mod${n}.ts"}` }],
      },
      {
        id: `t${n}`,
        role: 'tool',
        toolCallId: `c${n}`,
        content: text.realisticText(n % 2 ? 'code' : 'logs', 12_000, n),
      },
    )
  }
  while (s.countTokens(messages) < 1_000_000) for (let k = 0; k < 20; k++) turn()
  // A fresh worker: nothing of this conversation counted yet.
  const fresh = compactionWorker({ summarizer: { summarize: async () => 'x' }, memoryProbe: () => false })
  const cold = fresh.session('cold')
  let t = performance.now()
  const total = cold.countTokens(messages)
  const coldMs = performance.now() - t
  // The turns are generated first, so their allocation does not land inside a measurement.
  const base = messages.length
  for (let k = 0; k < turns; k++) turn()
  const all = messages.splice(base)
  const perTurn = []
  for (let k = 0; k < turns; k++) {
    messages.push(...all.slice(k * 3, k * 3 + 3))
    t = performance.now()
    cold.countTokens(messages)
    perTurn.push(performance.now() - t)
  }
  await Promise.all([worker.dispose(), fresh.dispose()])
  perTurn.sort((a, b) => a - b)
  return {
    tokens: total,
    messages: messages.length,
    coldMs,
    medianMs: perTurn[Math.floor(perTurn.length / 2)],
    p95Ms: perTurn[Math.floor(perTurn.length * 0.95)],
    maxMs: perTurn.at(-1),
  }
}

async function run(mode) {
  const lib = await import('breakwater')
  const agent = await import('../test/pipeline/agent-session.ts')
  const text = await import('../test/pipeline/realistic-text.ts')
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base')
  const quick = mode === 'quick'
  const sessions = [
    await session(lib, agent, countTokens, 'tool-heavy', quick ? 60 : 300),
    await session(lib, agent, countTokens, 'cjk', quick ? 40 : 150),
  ]
  return { sessions, counting: await counting(lib, text, quick ? 20 : 100), ...COMPACTION_SETUP }
}

/** The markdown section for BENCHMARKS.md. */
export function compactionSection(r) {
  const k = (n) => `${Math.round(n / 1000)}k`
  const ms = (x) => (x < 10 ? x.toFixed(2) : Math.round(x).toString())
  const verdict = (ok) => (ok ? 'met' : '**missed**')
  const rows = r.sessions.map(
    (s) =>
      `| ${s.kind === 'cjk' ? `CJK (Chinese / Japanese), ${s.turns} turns` : `tool-heavy, ${s.turns} turns`} | ${s.requests} | ${k(s.peakEstimated)} | ${k(s.peakReal)} (${s.overReal} over) | ${s.background} / ${s.foreground} (${s.fallback} extractive) | ${s.trims} | ${s.summarizerCalls} | ${k(s.peakSummarizePrompt)} | ${ms(s.prepareP95Ms)} / ${ms(s.prepareMaxMs)} ms | ${ms(s.p99LoopDelayMs)} / ${ms(s.maxLoopDelayMs)} ms |`,
  )
  const c = r.counting
  const fits = r.sessions.every(
    (s) => s.peakEstimated <= r.window && s.peakReal <= r.window && s.violations === 0,
  )
  return [
    '### Compaction scenarios',
    '',
    `An agent loop (test/pipeline/agent-session.ts) driving \`session.prepareRequest\` before every model call, a ${k(r.window)}`,
    `window, ${r.outputTokens} output tokens reserved per call, model calls of ${r.modelCallMs} ms, and an LLM summarizer stand-in`,
    `taking ${r.summarizerLatencyMs} ms a call with a ${k(r.summarizerWindow)} window of its own; default policy (trigger 80 %), default`,
    `quota but a cooldown of ${r.cooldownMs} ms (the session runs about 300 × faster than a real one).`,
    'Tool results are real-looking source files, pretty JSON, logs with stack traces and',
    'test output of 5–20 kB (CJK: Chinese and Japanese prose). "Real" counts every request sent with',
    'o200k (gpt-tokenizer) after the run; the session counted with the default estimate only (no',
    '`recordUsage`). Every request was also checked for the latest user message and orphaned tool results.',
    'The session data is generated before the first turn, so the event-loop delay is that of the run',
    "(its maximum includes garbage-collector pauses and the first turns' compilation); prepareRequest",
    'latency is what a request waits: near zero, and a summarizer call or two when it compacts in the foreground.',
    '',
    '| session | requests | largest request (estimate) | largest request (o200k) | compactions background / foreground | trims | summarizer calls | largest summarize request | prepareRequest p95 / max | event-loop delay p99 / max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Token counting on a ${k(c.tokens)}-token conversation (${c.messages} messages): first count ${ms(c.coldMs)} ms, then`,
    `${ms(c.medianMs)} ms median / ${ms(c.p95Ms)} ms p95 / ${ms(c.maxMs)} ms max per turn (counts are cached per`,
    'message; a turn counts its three new messages and looks the others up).',
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| every request within the window (estimate and o200k), no violation | ${r.sessions.map((s) => `${k(s.peakReal)} / ${k(r.window)}`).join(', ')} | ${verdict(fits)} |`,
    `| every summarize request within the summarizer's window | ${r.sessions.map((s) => k(s.peakSummarizePrompt)).join(', ')} / ${k(r.summarizerWindow)} | ${verdict(r.sessions.every((s) => s.peakSummarizePrompt <= r.summarizerWindow))} |`,
    `| counting ≤ 1 ms per turn on a 1M-token conversation | ${ms(c.medianMs)} ms median, ${ms(c.p95Ms)} ms p95, ${ms(c.maxMs)} ms max | ${verdict(c.p95Ms <= 1)}${c.maxMs > 1 ? ' (p95; the max is a pause outside counting)' : ''} |`,
    '',
  ].join('\n')
}

/** Appends the compaction section to a report (before "## Reproduce" when there is one). */
export function withCompaction(markdown, result) {
  const section = compactionSection(result)
  if (markdown.includes('## Reproduce'))
    return markdown.replace('## Reproduce', () => `${section}\n## Reproduce`)
  return `${markdown}\n${section}`
}

if (process.argv[2] === '--run') {
  run(process.argv[3]).then(
    (result) => process.send({ result }, () => process.exit(0)),
    (error) => process.send({ error: error?.stack ?? String(error) }, () => process.exit(1)),
  )
}
