export {
  startFakeProvider,
  type FakeProvider,
  type FakeProviderOptions,
  type ReplyRequest,
} from './fake-provider.js'
export type { FakeApi } from './dialect.js'
export type { FaultWindow, QueuedFault } from './fault-plan.js'
export type {
  DelayFault,
  Fault,
  FaultMatch,
  InsufficientQuotaFault,
  OverloadedFault,
  RateLimitFault,
  ResetFault,
  ServerErrorFault,
  StallFault,
  StatusFault,
  StreamErrorFault,
} from './faults.js'
export type { FakeBudgetState, FakeRateLimits, FakeRateLimitState } from './rate-limits.js'
export type { FakeRequest, RequestCounts, RequestFilter } from './request-log.js'
