import { afterEach, describe, expect, it } from 'vitest'
import { compactionWorker, type CompactionWorker, type Message } from '../../src/pipeline/index.js'
import { INTERRUPTED_RESULT } from '../../src/pipeline/close-orphans.js'
import { conversation, toolCallsPaired } from './conversation.js'
import { CALM, controlledSummarizer } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

const newWorker = () => {
  const w = compactionWorker({ summarizer: controlledSummarizer().summarizer, signals: { read: () => CALM } })
  workers.push(w)
  return w
}

/** A turn that stopped while two of three parallel tool calls were still running. */
function interrupted(): Message[] {
  const c = conversation()
    .system('You are a coding agent.')
    .user('Run the tests and lint')
    .tool('ls', {}, 'src test')
  c.messages.push(
    {
      id: 'a9',
      role: 'assistant',
      content: '',
      toolCalls: [
        { id: 'c1', name: 'bash', arguments: '{"command":"npm test"}' },
        { id: 'c2', name: 'bash', arguments: '{"command":"npm run lint"}' },
        { id: 'c3', name: 'read_file', arguments: '{"path":"README.md"}' },
      ],
    },
    { id: 't1', role: 'tool', toolCallId: 'c1', content: 'all passed' },
  )
  return c.messages
}

describe('resume (P16)', () => {
  it('P16 a crashed session resumed in a new process: orphaned tool calls closed with a synthetic result, one interrupt note', async () => {
    const loaded = interrupted() // what the new process reads back from its own storage
    expect(toolCallsPaired(loaded)).toBe(false)
    const s = newWorker().session('crashed')
    const resumed = s.resume(loaded)
    expect(toolCallsPaired(resumed)).toBe(true)
    expect(resumed.slice(-4).map((m) => [m.role, m.toolCallId ?? '', m.content.slice(0, 12)])).toEqual([
      ['tool', 'c1', 'all passed'],
      ['tool', 'c2', INTERRUPTED_RESULT.slice(0, 12)],
      ['tool', 'c3', INTERRUPTED_RESULT.slice(0, 12)],
      ['user', '', '[The session'],
    ])
    expect(resumed.at(-1)!.content).toContain('bash (c2), read_file (c3)')
    // Resuming again adds nothing; the conversation goes on.
    expect(s.resume(resumed)).toEqual(resumed)
    expect(await s.prepareRequest(resumed)).toBe(resumed)
  })

  it('P16 a paused session resumed with its messages: the pause ends, results without a call are dropped, one note', () => {
    const s = newWorker().session('paused')
    s.beginTurn([])
    s.pause()
    const messages = [
      ...interrupted(),
      { id: 'stray', role: 'tool', toolCallId: 'gone', content: 'late' } as Message,
    ]
    const resumed = s.resume(messages)
    expect(resumed.some((m) => m.id === 'stray')).toBe(false)
    expect(resumed.filter((m) => m.content.startsWith('[The session was interrupted'))).toHaveLength(1)
    expect(resumed.at(-1)!.content).toContain('1 tool result(s) whose call was lost were removed')
    expect(s.inTurn).toBe(false)
    expect(toolCallsPaired(resumed)).toBe(true)
    // Nothing to close: the same messages, no note.
    const clean = conversation().user('hi').assistant('hello').messages
    expect(s.resume(clean)).toEqual(clean)
  })
})
