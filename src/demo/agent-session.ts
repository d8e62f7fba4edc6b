import {
  isBrokenCircuitError,
  systemClock,
  type CompactionSession,
  type Message,
  type Priority,
} from '../index.js'
import type { ChatModel } from './chat-models.js'
import { between, pick } from './random.js'
import type { Scenario } from './scenario.js'
import type { DemoStats } from './stats.js'

export interface AgentOptions {
  id: string
  model: ChatModel
  /** This conversation's compaction session (turn boundaries and background compaction). */
  compaction: CompactionSession
  stats: DemoStats
  random: () => number
  scenario: Scenario
  /** Aborted when the run ends: every call in flight is aborted with it. */
  signal: AbortSignal
}

const TASKS = ['fix the failing test in', 'add input validation to', 'remove the dead code in', 'document']
const AREAS = ['billing', 'auth', 'search', 'api', 'jobs']
const FILES = ['handler', 'schema', 'client', 'queue', 'cache', 'routes']

/**
 * One simulated coding agent. Each turn: the user asks for a change to a file, the model plans and
 * calls `read_file`, the tool answers with the file, the model answers. Around the turns it makes
 * background calls (a title for the turn, shed first under load) and answers the shared questions
 * every agent gets at the same moment (deduplicated). A failed turn is dropped and retried later,
 * as an agent loop would; an open breaker makes it wait as long as the breaker says.
 */
export class AgentSession {
  private messages: Message[]
  private turn = 0
  private waitMs = 0
  private readonly side = new Set<Promise<void>>()

  constructor(private readonly o: AgentOptions) {
    this.messages = [
      {
        id: `${o.id}-sys`,
        role: 'system',
        content: `You are coding agent ${o.id}. Use read_file before editing.`,
      },
    ]
  }

  /** Runs turns until the run ends; never rejects. */
  async run(): Promise<void> {
    const { signal, scenario, random } = this.o
    while (!signal.aborted) {
      await this.takeTurn()
      const spike = scenario.phaseAt(Date.now() - this.o.stats.startMs) === 'spike'
      const thinkMs = Math.max(spike ? between(random, 0, 15) : between(random, 120, 450), this.waitMs)
      this.waitMs = 0
      await systemClock.sleep(thinkMs, signal).catch(() => {})
    }
    await Promise.all(this.side)
  }

  /** A question every agent is asked at the same moment: identical requests, one upstream call. */
  ask(question: string): void {
    this.fire([{ id: 'shared-question', role: 'user', content: question }], 'foreground')
  }

  private async takeTurn(): Promise<void> {
    const { id, random, compaction } = this.o
    const n = ++this.turn
    // The turn boundary: a compaction finished in the background is applied here.
    const start = compaction.beginTurn(this.messages)
    const file = `src/${pick(random, AREAS)}/${pick(random, FILES)}.ts`
    const ask: Message = {
      id: `${id}-u${n}`,
      role: 'user',
      content: `Step ${n}: ${pick(random, TASKS)} ${file}.`,
    }
    const next = [...start, ask]
    try {
      const plan = await this.call(next, 'foreground')
      const callId = `${id}-call${n}`
      const toolCall = { id: callId, name: 'read_file', arguments: JSON.stringify({ path: file }) }
      next.push({ id: `${id}-a${n}`, role: 'assistant', content: plan, toolCalls: [toolCall] })
      next.push({ id: `${id}-t${n}`, role: 'tool', toolCallId: callId, content: sourceOf(file, random) })
      next.push({ id: `${id}-r${n}`, role: 'assistant', content: await this.call(next, 'foreground') })
      this.messages = next
      if (random() < (this.spiking() ? 1 : 0.35)) {
        this.fire(
          [{ id: `${id}-title${n}`, role: 'user', content: `Title this change: ${ask.content}` }],
          'background',
        )
      }
    } catch (error) {
      this.messages = start // the turn is dropped; the conversation stays as it was
      this.waitMs = isBrokenCircuitError(error) ? Math.min(error.retryAfterMs, 1_000) : 100
    }
    // Over the trigger, this starts a compaction in the background on a snapshot; it never blocks.
    await compaction.endTurn(this.messages)
  }

  private spiking(): boolean {
    return this.o.scenario.phaseAt(Date.now() - this.o.stats.startMs) === 'spike'
  }

  private call(messages: readonly Message[], priority: Priority): Promise<string> {
    const { model, stats, signal } = this.o
    return stats.track(() => model.complete(messages, { priority, signal }), signal, priority)
  }

  /** A call the agent does not wait for; the run waits for it at the end. */
  private fire(messages: readonly Message[], priority: Priority): void {
    const done = this.call(messages, priority).then(
      () => {},
      () => {}, // counted by stats.track
    )
    this.side.add(done)
    void done.then(() => this.side.delete(done))
  }
}

/** A plausible file for the tool result: enough text that conversations grow and get compacted. */
function sourceOf(file: string, random: () => number): string {
  const lines = [`// ${file}`]
  for (let i = between(random, 12, 30); i > 0; i--) {
    lines.push(`export const value${i} = compute(${between(random, 1, 999)}, 'step-${i}') // checked`)
  }
  return lines.join('\n')
}
