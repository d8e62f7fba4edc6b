/**
 * A simulated agent session for the compaction scenarios (tests and bench/compaction.mjs): turns of
 * a user request, model calls that read files and run commands (results of 5–20 kB), edits and a
 * final answer, driven through a compaction session exactly as an agent loop would — beginTurn,
 * prepareRequest before every model call, recordUsage after it, endTurn. Every request sent is
 * checked. The library is passed in (sources in tests, the built package in the benchmark), so
 * this file imports only types and the seeded data.
 */
import type { ChatPrompt, CompactionSession, Message, Summarizer } from '../../src/pipeline/index.js'
import { seededRandom } from '../../src/testing/seeded-random.js'
import { toolCallsPaired } from './conversation.js'
import { filePath, realisticText, shellOutput } from './realistic-text.js'

export type SessionKind = 'tool-heavy' | 'cjk'

export interface AgentRunOptions {
  session: CompactionSession
  kind: SessionKind
  turns: number
  seed: number
  contextWindow: number
  /** Max output tokens of each model call. */
  outputTokens: number
  /** Called with every request sent; resolves the provider's input token count (recordUsage), if any. */
  provider?: (messages: readonly Message[]) => number | undefined
  /** Awaits a session promise, letting time pass meanwhile (a test clock advances; real time just waits). */
  settle: <T>(work: Promise<T>) => Promise<T>
  /** The time one model call takes (test clock: advanced; real time: slept). */
  modelCall: () => Promise<void>
  /** Called once the session's data is generated, right before the first turn. */
  onStart?: () => void
}

export interface AgentRunResult {
  requests: number
  /** Largest calibrated count of a request sent, plus its output tokens. */
  peakTokens: number
  /** Problems found in requests sent: over the window, latest user message missing, orphaned tool result. */
  violations: string[]
  /** Largest request the provider counted (when `provider` counts). */
  peakProviderTokens: number
  messages: Message[]
}

const CJK_KINDS = ['chinese', 'japanese'] as const

/** Runs the session; never throws for a violation, it reports them. */
export async function runAgentSession(o: AgentRunOptions): Promise<AgentRunResult> {
  const r = seededRandom(o.seed)
  const int = (min: number, max: number) => min + Math.floor(r() * (max - min + 1))
  let seq = 0
  const id = (p: string) => `${p}${++seq}`
  let messages: Message[] = [
    {
      id: 'system',
      role: 'system',
      content:
        o.kind === 'cjk'
          ? '你是一个编程助手。使用工具读取文件并运行命令。Answer in the language of the user.'
          : 'You are a coding agent. Use the tools to read files and run commands; keep the user informed.',
    },
  ]
  const result: AgentRunResult = {
    requests: 0,
    peakTokens: 0,
    violations: [],
    peakProviderTokens: 0,
    messages,
  }
  const check = (sent: Message[], userId: string, turn: number) => {
    const tokens = o.session.countTokens(sent) + o.outputTokens
    result.peakTokens = Math.max(result.peakTokens, tokens)
    if (tokens > o.contextWindow)
      result.violations.push(`turn ${turn}: ${tokens} tokens over ${o.contextWindow}`)
    if (!sent.some((m) => m.id === userId))
      result.violations.push(`turn ${turn}: latest user message missing`)
    if (!toolCallsPaired(sent)) result.violations.push(`turn ${turn}: orphaned tool call or result`)
    if (!sent.some((m) => m.role !== 'system')) result.violations.push(`turn ${turn}: only system messages`)
  }
  // The whole session is generated first, so the run itself measures the library, not the data.
  const script = Array.from({ length: o.turns }, (_, turn) => {
    const lang = CJK_KINDS[turn % 2]!
    const user =
      o.kind === 'cjk'
        ? `第${turn}步：${realisticText(lang, int(200, 900), o.seed * 1000 + turn)}`
        : `Step ${turn}: fix the failing ${['retry', 'cache', 'session'][turn % 3]} test in ${filePath(r)}. ${turn % 5 === 0 ? 'Do not change the public API. ' : ''}${realisticText('prose', int(100, 600), o.seed * 1000 + turn)}`
    const calls = Array.from({ length: int(1, 3) }, (_, call) => {
      const roll = r()
      const path = filePath(r)
      const seed = turn * 10 + call
      const [name, args, output] =
        roll < 0.45
          ? ['read_file', { path }, readOutput(o.kind, int(5_000, 20_000), seed)]
          : roll < 0.85
            ? ['bash', { command: `npm test -- ${path}` }, shellOutput(int(5_000, 20_000), seed)]
            : [
                'edit_file',
                { path, patch: realisticText('code', int(200, 1_500), seed) },
                'ok: 1 file changed',
              ]
      return { name, arguments: JSON.stringify(args), output }
    })
    const answer =
      o.kind === 'cjk'
        ? realisticText(lang, int(300, 1_500), turn)
        : `Fixed it. Next I will run the whole suite. ${realisticText('prose', int(200, 900), turn)}`
    return { user, calls, answer }
  })
  o.onStart?.()
  for (let turn = 0; turn < o.turns; turn++) {
    const t = script[turn]!
    messages = o.session.beginTurn(messages)
    const user: Message = { id: id('u'), role: 'user', content: t.user }
    messages.push(user)
    for (let call = 0; call <= t.calls.length; call++) {
      messages = await o.settle(o.session.prepareRequest(messages, { outputTokens: o.outputTokens }))
      check(messages, user.id, turn)
      result.requests++
      const reported = o.provider?.(messages)
      if (reported !== undefined) {
        result.peakProviderTokens = Math.max(result.peakProviderTokens, reported + o.outputTokens)
        o.session.recordUsage({ inputTokens: reported })
      }
      await o.modelCall()
      const step = t.calls[call]
      if (step === undefined) {
        messages.push({ id: id('a'), role: 'assistant', content: t.answer })
        break
      }
      const callId = id('call')
      messages.push({
        id: id('a'),
        role: 'assistant',
        content:
          call === 0 ? (o.kind === 'cjk' ? '我先看一下相关文件。' : 'Let me look at the code first.') : '',
        toolCalls: [{ id: callId, name: step.name, arguments: step.arguments }],
      })
      messages.push({ id: id('t'), role: 'tool', toolCallId: callId, content: step.output })
    }
    await o.settle(o.session.endTurn(messages))
  }
  result.messages = messages
  return result
}

function readOutput(kind: SessionKind, chars: number, seed: number): string {
  if (kind === 'cjk')
    return realisticText(seed % 2 === 0 ? 'chinese' : 'japanese', Math.floor(chars / 3), seed)
  const k = (['code', 'code', 'json', 'logs'] as const)[seed % 4]!
  return realisticText(k, chars, seed)
}

/**
 * An LLM summarizer stand-in whose every call takes `latency()` (on the caller's clock) and answers a
 * checkpoint summary of about half its budget. Records each prompt's size, counted with `count`.
 */
export function slowSummarizer(o: {
  sleep: (ms: number, signal: AbortSignal) => Promise<void>
  latencyMs: number
  count: (text: string) => number
  llm: (options: {
    complete: (prompt: ChatPrompt, ctx: { signal: AbortSignal }) => Promise<string>
  }) => Summarizer
}) {
  const prompts: number[] = []
  const summarizer = o.llm({
    async complete(prompt, ctx) {
      const size = o.count(prompt.system) + o.count(prompt.messages.map((m) => m.content).join('\n'))
      prompts.push(size + prompt.maxTokens)
      await o.sleep(o.latencyMs, ctx.signal)
      const body = prompt.messages[0]!.content
      const lines = body.split('\n').filter((l) => l.trim().length > 0)
      const pick = lines.filter((_, i) => i % 7 === 0).join('\n')
      const text = `## Goal\n${lines[1] ?? ''}\n## Progress\n${pick}`
      let out = text
      while (o.count(out) > prompt.maxTokens / 2 && out.length > 10)
        out = out.slice(0, Math.floor(out.length * 0.8))
      return out
    },
  })
  return { summarizer, prompts }
}
