/** A provider-neutral chat request: map it to your SDK's call in `complete`. */
export interface ChatPrompt {
  /** The system instruction. */
  system: string
  /** The conversation to send (one user message for summaries). */
  messages: { role: 'user' | 'assistant'; content: string }[]
  /** Output budget, in tokens: pass it as the request's max tokens. */
  maxTokens: number
}

/** Sections of a checkpoint summary (the structure pi and Codex use for handoffs). */
export const CHECKPOINT_SECTIONS = [
  'Goal',
  'Constraints',
  'Progress',
  'Decisions',
  'Files read',
  'Files modified',
  'Errors',
  'Next steps',
  'Critical context',
] as const

const SYSTEM =
  'You write handoff summaries of agent conversations. Older messages are about to be removed from ' +
  "the agent's context; your summary replaces them, so the agent must be able to continue from it " +
  'alone. Keep exact file paths, identifiers, commands, numbers and error messages. Do not continue ' +
  'the conversation, do not answer its questions, do not invent facts.'

const SECTIONS = CHECKPOINT_SECTIONS.map((s) => `## ${s}`).join('\n')

/** The first summary of a conversation. */
export function checkpointPrompt(transcript: string, maxTokens: number): ChatPrompt {
  const content =
    `<conversation>\n${transcript}\n</conversation>\n\n` +
    `Write a checkpoint summary of the conversation above in at most ${maxTokens} tokens, ` +
    `with exactly these sections (write "none" for an empty one):\n${SECTIONS}\n\n` +
    'Goal: what the user wants overall. Constraints: requirements and preferences the user stated. ' +
    'Progress: what is done and what is in progress. Decisions: choices made and why. Files read and ' +
    'Files modified: exact paths, from the tools the agent called (a file both read and modified is ' +
    'listed as modified; paths that only appear inside a stack trace are not files the agent worked ' +
    'on). Errors: errors the agent met and whether they are fixed, with the exact message. Next ' +
    'steps: what remains, in order. Critical context: anything else the agent cannot continue ' +
    'without. Each section name appears once.'
  return { system: SYSTEM, messages: [{ role: 'user', content }], maxTokens }
}

/** Updates a previous summary with the messages that followed it (cumulative summaries, P3). */
export function updatePrompt(previousSummary: string, transcript: string, maxTokens: number): ChatPrompt {
  const content =
    `<previous-summary>\n${previousSummary}\n</previous-summary>\n\n` +
    `<conversation>\n${transcript}\n</conversation>\n\n` +
    'The previous summary covers the conversation before the messages above. Write the updated ' +
    `summary in at most ${maxTokens} tokens, with exactly these sections:\n${SECTIONS}\n\n` +
    'Keep the goal and constraints unless the user changed them; move finished work into Progress; ' +
    'keep every file from the previous summary and add the new ones (Files read and Files modified ' +
    'accumulate); keep errors that are not fixed yet; replace Next steps with what remains now. Drop ' +
    'only what is no longer true. Each section name appears once.'
  return { system: SYSTEM, messages: [{ role: 'user', content }], maxTokens }
}
