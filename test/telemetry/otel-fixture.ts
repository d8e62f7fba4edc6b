/**
 * The OpenTelemetry SDK as an app registers it: a global tracer provider exporting to memory and
 * an AsyncLocalStorage context manager (what NodeSDK / NodeTracerProvider.register() install).
 */
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

export interface Otel {
  readonly exporter: InMemorySpanExporter
  /** Finished spans named `name`. */
  spans(name?: string): ReadableSpan[]
  /** The single finished `breakwater.call` span (fails when there is not exactly one). */
  callSpan(): ReadableSpan
  /** Unregisters the provider and the context manager. */
  stop(): Promise<void>
}

/**
 * The in-memory exporter, answering the span processor at once. The SDK's own answers on a 0 ms
 * timer, which a test that ends with its span leaves running (the leak guard fails it at random).
 */
class InstantExporter extends InMemorySpanExporter {
  override export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.getFinishedSpans().push(...spans)
    done({ code: 0 }) // ExportResultCode.SUCCESS
  }
}

export function registerOtel(): Otel {
  const exporter = new InstantExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  trace.setGlobalTracerProvider(provider)
  const spans = (name?: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name)
  return {
    exporter,
    spans,
    callSpan() {
      const found = spans('breakwater.call')
      if (found.length !== 1) throw new Error(`expected one breakwater.call span, got ${found.length}`)
      return found[0]!
    },
    async stop() {
      trace.disable()
      context.disable()
      await provider.shutdown()
    },
  }
}

/** A span's events as `[name, attributes]`. */
export function eventsOf(span: ReadableSpan): [string, Record<string, unknown>][] {
  return span.events.map((e) => [e.name, { ...e.attributes }])
}
