import type { Cluster, Redis } from 'ioredis'

type ScriptFn = (key: string, ...args: (string | number)[]) => Promise<unknown>

/**
 * Registers Lua scripts on a connection with ioredis `defineCommand` (idempotent per connection),
 * one key each: ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restart, a failover
 * or SCRIPT FLUSH costs one extra round trip, never an error; on a Cluster the fallback happens on
 * whichever node owns the key.
 */
export function defineScripts(client: Redis | Cluster, scripts: Readonly<Record<string, string>>): void {
  const registered = client as unknown as Record<string, unknown>
  for (const [name, lua] of Object.entries(scripts)) {
    if (typeof registered[name] !== 'function') client.defineCommand(name, { numberOfKeys: 1, lua })
  }
}

/** Runs a script registered by `defineScripts` on one key; resolves to its raw reply. */
export function runScript(
  client: Redis | Cluster,
  name: string,
  key: string,
  args: readonly (string | number)[],
): Promise<unknown> {
  const fn = (client as unknown as Record<string, ScriptFn>)[name]
  if (typeof fn !== 'function') return Promise.reject(new Error(`script ${name} is not defined`))
  return fn.call(client, key, ...args)
}
