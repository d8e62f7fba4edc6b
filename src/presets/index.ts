export { llmGuard, LLM_GUARD_DEFAULTS, type LlmGuard, type LlmGuardOptions } from './llm-guard.js'
