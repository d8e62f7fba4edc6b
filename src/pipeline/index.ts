export { pipeline, Pipeline } from './pipeline.js'
export type { PipelineOptions, PipelineRunOptions, StageEvent, StageFn, StageOptions } from './pipeline.js'
export { StageError, isStageError } from './stage-error.js'
