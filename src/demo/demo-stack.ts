import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import {
  compactionWorker,
  llmGuard,
  llmSummarizer,
  wrapAnthropic,
  wrapOpenAI,
  type CircuitBackend,
  type CompactionWorker,
  type LlmGuard,
  type ProviderResponse,
  type RateLimitStore,
} from '../index.js'
import { AgentSession } from './agent-session.js'
import { anthropicModel, openaiModel, summaryCompletion } from './chat-models.js'
import { seededRandom } from './random.js'
import { BUDGET_WINDOW_MS, SERVICES, type Scenario } from './scenario.js'
import { DemoStats } from './stats.js'

export interface StackOptions {
  /** The fake provider's base URL (the Anthropic SDK's baseURL; OpenAI's is this + '/v1'). */
  providerUrl: string
  /** Agent sessions in this process. */
  sessions: number
  /** Number of the first session (so a fleet's sessions have distinct names). */
  firstSession: number
  seed: number
  scenario: Scenario
  /** Where breaker state lives. Default: in memory, this process only (llmGuard's default). */
  backend?: CircuitBackend
  /** Where the rate limit's budgets live. Default: in memory, this process only. */
  rateLimitStore?: RateLimitStore
  /** Hears every provider answer of the wrapped clients (the metrics' tokens and time to first token). */
  onResponse?: (response: ProviderResponse) => void
}

/** One process's side of the demo: one guard, the wrapped SDK clients, a compaction worker, the agents. */
export interface DemoStack {
  readonly guard: LlmGuard
  readonly worker: CompactionWorker
  readonly stats: DemoStats
  /** Runs every agent until `signal` aborts (which aborts their calls in flight too). */
  run(signal: AbortSignal): Promise<void>
  /** Stops the compaction worker and unsubscribes the counters. */
  dispose(): Promise<void>
}

const COMPACTION_GRACE_MS = 2_000

const SHARED_QUESTIONS = [
  'Is the main branch green right now?',
  'Are there open incidents on the status page?',
  'Which services deployed in the last hour?',
  'What is the current error budget?',
]

export function demoStack(o: StackOptions): DemoStack {
  const s = o.scenario
  // Limits sized to the agent count, so the spike crosses the soft limit whatever --sessions says.
  const hardLimit = Math.max(4, Math.ceil(o.sessions * 0.6))
  const guard = llmGuard({
    retry: { maxAttempts: 3, baseDelayMs: s.retryBaseMs, maxDelayMs: 2_000, random: seededRandom(o.seed) },
    backpressure: {
      hardLimit,
      softLimit: Math.max(2, Math.ceil(hardLimit * 0.6)),
      maxQueue: 4 * hardLimit,
      queueTimeoutMs: 3_000,
    },
    circuit: {
      threshold: 5,
      recoveryMs: s.recoveryMs,
      maxRecoveryMs: 2 * s.recoveryMs, // backs off, yet closes soon after the outage ends
      ...(o.backend !== undefined && { backend: o.backend }),
    },
    // The provider's budget per window, learned from its rate-limit headers: none until it sends
    // them (the rate-limit act), then every call waits its turn for the budget, holding no slot.
    rateLimit: {
      windowMs: BUDGET_WINDOW_MS,
      ...(o.rateLimitStore !== undefined && { store: o.rateLimitStore }),
    },
    timeout: { attemptMs: 5_000, idleMs: 5_000, totalMs: 20_000 },
  })
  const openaiOptions = { apiKey: 'sk-demo', baseURL: `${o.providerUrl}/v1` }
  // The agents ask the same question at the same moment on purpose: merge those sampled requests.
  const wrap = { dedupe: 'always', ...(o.onResponse && { onResponse: o.onResponse }) } as const
  const openai = openaiModel(wrapOpenAI(new OpenAI(openaiOptions), guard, wrap))
  const anthropic = anthropicModel(
    wrapAnthropic(new Anthropic({ apiKey: 'sk-ant-demo', baseURL: o.providerUrl }), guard, wrap),
  )

  const worker = compactionWorker({
    // The summary is written by the model through the same guard, at background priority; when that
    // call fails (outage, open breaker, shed) the extractive fallback writes it instead.
    summarizer: llmSummarizer({
      complete: summaryCompletion(new OpenAI({ ...openaiOptions, maxRetries: 0 })),
    }),
    guard,
    service: SERVICES[0],
    policy: { contextWindow: 8_000, triggerTokens: 1_500 },
    quota: { cooldownMs: s.compactionCooldownMs, timeoutMs: 10_000 },
  })
  const stats = new DemoStats(SERVICES, (elapsedMs) => s.phaseAt(elapsedMs))
  const unwatch = stats.watch(guard, worker)
  let disposed = false

  return {
    guard,
    worker,
    stats,
    async run(signal) {
      const agents = Array.from({ length: o.sessions }, (_, i) => {
        const n = o.firstSession + i
        return new AgentSession({
          id: `agent-${n}`,
          model: n % 2 === 1 ? openai : anthropic,
          compaction: worker.session(`agent-${n}`),
          stats,
          random: seededRandom(o.seed * 1_000 + n),
          scenario: s,
          signal,
        })
      })
      let asked = 0
      const broadcast = setInterval(() => {
        const question = SHARED_QUESTIONS[asked++ % SHARED_QUESTIONS.length]!
        for (const agent of agents) agent.ask(question)
      }, s.broadcastEveryMs)
      const stop = (): void => clearInterval(broadcast)
      signal.addEventListener('abort', stop, { once: true })
      try {
        await Promise.all(agents.map((a) => a.run()))
      } finally {
        stop()
        signal.removeEventListener('abort', stop)
      }
      // Compactions still running finish (for a while) rather than being cut off by dispose().
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(agents.map((_, i) => worker.session(`agent-${o.firstSession + i}`).idle())),
        new Promise((resolve) => (timer = setTimeout(resolve, COMPACTION_GRACE_MS))),
      ])
      clearTimeout(timer)
    },
    async dispose() {
      await worker.dispose()
      if (!disposed) unwatch()
      disposed = true
    },
  }
}
