/**
 * One service name per upstream model, whichever integration makes the call (W3), so mixed code
 * shares one breaker, one rate limit and one set of metric series per model:
 *
 * | integration | provider name it reports | service |
 * |---|---|---|
 * | `wrapOpenAI` | — | `openai:<model>` |
 * | `wrapAnthropic` | — | `anthropic:<model>` |
 * | `guardMiddleware` + `@ai-sdk/openai` | `openai.chat`, `openai.responses`, `openai.embedding`, … | `openai:<modelId>` |
 * | `guardMiddleware` + `@ai-sdk/anthropic` | `anthropic.messages` | `anthropic:<modelId>` |
 *
 * An AI SDK provider name is cut at its first dot (`openai.responses` → `openai`), which is how
 * the AI SDK providers name their API variants. A request without a model (a batch, a file) is
 * the provider alone: `openai`, `anthropic`.
 */
export function serviceName(provider: string, model: string | undefined): string {
  return model === undefined ? provider : `${provider}:${model}`
}

/** The upstream provider of an AI SDK model: `openai.responses` → `openai`. */
export function upstreamProvider(aiSdkProvider: string): string {
  const dot = aiSdkProvider.indexOf('.')
  return dot > 0 ? aiSdkProvider.slice(0, dot) : aiSdkProvider
}
