import type { ReplyRequest } from '../testing.js'

/**
 * What the fake provider answers in the demo: a checkpoint summary for the compaction prompts (so
 * compacted conversations read sensibly), an echo of the last user message for everything else.
 */
export function demoReply(request: ReplyRequest): string {
  const system = JSON.stringify((request.body.messages as unknown[] | undefined)?.[0] ?? '')
  if (!system.includes('handoff summaries')) return `echo: ${request.lastUserMessage.slice(0, 120)}`
  const files = [...new Set(request.lastUserMessage.match(/src\/[\w/]+\.ts/g) ?? [])].slice(0, 8)
  const steps = request.lastUserMessage.match(/Step \d+: [^\n.]+/g) ?? []
  return [
    '## Goal',
    'Work through the requested code changes one file at a time.',
    '## Progress',
    ...steps.slice(-4).map((s) => `- ${s}`),
    '## Files read',
    ...files.map((f) => `- ${f}`),
    '## Next steps',
    '- Continue with the next requested change.',
  ].join('\n')
}
