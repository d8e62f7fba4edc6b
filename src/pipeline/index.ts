export { pipeline, Pipeline } from './pipeline.js'
export type { PipelineOptions, PipelineRunOptions, StageEvent, StageFn, StageOptions } from './pipeline.js'
export { StageError, isStageError } from './stage-error.js'
export type { Message, ToolCall } from './message.js'
export {
  estimateTextTokens,
  estimateTokens,
  estimateTotal,
  ESTIMATE_HEADROOM,
  MESSAGE_OVERHEAD_TOKENS,
  messageEstimator,
} from './tokens.js'
export type { TextTokenCounter, TokenEstimator } from './tokens.js'
export {
  resolvePolicy,
  COMPACTION_TARGET_RATIO,
  DEFAULT_CONTEXT_WINDOW,
  DEFAULT_KEEP_RECENT_FRACTION,
  DEFAULT_MAX_TOOL_OUTPUT_CHARS,
  DEFAULT_TRIGGER_FRACTION,
  MAX_DEFAULT_SUMMARY_TOKENS,
} from './compaction-policy.js'
export type { CompactionPolicy, ResolvedCompactionPolicy } from './compaction-policy.js'
export { isSummaryMessage, summaryText } from './summary-block.js'
export { planCompaction } from './plan-compaction.js'
export type { CompactionPlan, PlanOptions } from './plan-compaction.js'
export { applyCompaction, isWellFormedSummary } from './apply-compaction.js'
export {
  AlreadyRunningError,
  CompactionRefusedError,
  isAlreadyRunningError,
  isCompactionRefusedError,
} from './compaction-errors.js'
export type { CompactionRefusal } from './compaction-errors.js'
export type { Summarizer, SummarizeInput } from './summarizer.js'
export { extractiveSummarizer } from './extractive-summarizer.js'
export type { ExtractiveSummarizerOptions } from './extractive-summarizer.js'
export { llmSummarizer } from './llm-summarizer.js'
export type { LlmSummarizerOptions } from './llm-summarizer.js'
export { checkpointPrompt, updatePrompt, CHECKPOINT_SECTIONS } from './summary-prompts.js'
export type { ChatPrompt } from './summary-prompts.js'
export { compactionWorker, CompactionWorker } from './compaction-worker.js'
export type { CompactionWorkerOptions } from './compaction-worker-options.js'
export { CompactionSession } from './compaction-session.js'
export type { CompactionResult } from './compaction-run.js'
export {
  DEFAULT_COMPACTION_TIMEOUT_MS,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_FOREGROUND_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS_PER_SESSION,
  MARKER_MARGIN_MS,
} from './compaction-quota.js'
export type { CompactionQuota } from './compaction-quota.js'
export { InMemoryCompactionStore } from './compaction-store.js'
export type { CompactionStore, InMemoryCompactionStoreOptions, SessionRecord } from './compaction-store.js'
export { ADMISSION_REASONS, guardSignals, heapPressure } from './admission.js'
export type {
  AdmissionDecision,
  AdmissionReason,
  AdmissionSignals,
  AdmissionSignalSource,
  BackpressureSignal,
  CircuitSignal,
  GuardSignalsOptions,
} from './admission.js'
export type { AdmissionEvidence } from './admission-evidence.js'
export type {
  CompactionAdmissionEvent,
  CompactionCompletedEvent,
  CompactionFailedEvent,
  CompactionFailure,
  CompactionRejectedEvent,
  CompactionStartedEvent,
  CompactionTrimmedEvent,
} from './worker-events.js'
