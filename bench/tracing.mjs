/**
 * What OpenTelemetry tracing costs per call. First with no tracer provider registered (every call
 * checks that none is: the price every user pays), then with one registered as an app would (an
 * AsyncLocalStorage context manager and a provider whose processor drops spans, so span creation,
 * attributes and context switching are measured and no exporter is): a traced call, and the same
 * guard with `setTracing(guard, false)`. Each phase runs its cases side by side.
 */
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { backpressureGuard, circuitGuard, compose, llmGuard, retryGuard, setTracing } from 'breakwater'
import { compareAsync, spread } from './lib/measure.mjs'

const fn = async () => 1
const composed = () =>
  compose(
    retryGuard({ maxAttempts: 3 }),
    backpressureGuard({ hardLimit: 64 }),
    circuitGuard({ threshold: 5, recoveryMs: 30_000 }),
  )

export async function tracingOverhead(options = {}) {
  const plain = composed()
  const preset = llmGuard({ timeout: false })
  const off = [
    { name: 'bare `async () => x`', op: () => fn() },
    { name: 'compose(retry, backpressure, circuit)', op: () => plain.execute(fn) },
    { name: 'llmGuard({ timeout: false })', op: () => preset.execute(fn) },
  ]
  const none = await compareAsync(off, options)

  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  const provider = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] })
  trace.setGlobalTracerProvider(provider)
  const traced = composed()
  const untraced = setTracing(composed(), false)
  const tracedPreset = llmGuard({ timeout: false })
  const on = [
    { name: 'bare `async () => x`', op: () => fn() },
    { name: 'compose(retry, backpressure, circuit), traced', op: () => traced.execute(fn) },
    {
      name: 'compose(retry, backpressure, circuit), setTracing(guard, false)',
      op: () => untraced.execute(fn),
    },
    { name: 'llmGuard({ timeout: false }), traced', op: () => tracedPreset.execute(fn) },
  ]
  const registered = await compareAsync(on, options)
  trace.disable()
  context.disable()
  await provider.shutdown()
  const rows = (results) => results.map((r) => ({ ...r, spread: spread(r.samples) }))
  return { none: rows(none), registered: rows(registered) }
}

/** The markdown section for BENCHMARKS.md. */
export function tracingSection({ none, registered }) {
  const table = (results) => {
    const bare = results[0].nsPerOp
    return [
      '| case | ns/op (median) | over bare | spread |',
      '|---|---:|---:|---:|',
      ...results.map(
        (r, i) =>
          `| ${r.name} | ${Math.round(r.nsPerOp)} | ${i === 0 ? '—' : `+${Math.round(r.nsPerOp - bare)}`} | ${Math.round(r.spread * 100)} % |`,
      ),
    ]
  }
  return [
    '## Tracing (OpenTelemetry)',
    '',
    'No tracer provider registered (what every call pays for the check that none is):',
    '',
    ...table(none),
    '',
    'A tracer provider registered as an app would (AsyncLocalStorage context manager, spans dropped',
    'by a `NoopSpanProcessor`, so no exporter is measured); the context manager alone slows every',
    'promise of the process, bare calls included:',
    '',
    ...table(registered),
    '',
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await tracingOverhead()
  console.log(tracingSection(r).join('\n'))
}
