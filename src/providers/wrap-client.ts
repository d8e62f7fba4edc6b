import type { Guard } from '../core/guard.js'
import { resolveWrapOptions, type WrapOptions } from './provider-options.js'
import { clientScope } from './scope.js'
import { guardedCreate, type ClientState, type Endpoint } from './sdk-call.js'

/** Which methods to guard: a tree of property names ending in endpoints. */
export interface Routes {
  readonly [property: string]: Routes | Endpoint
}

const isEndpoint = (route: Routes | Endpoint): route is Endpoint =>
  typeof (route as Endpoint).isContent === 'function'

/**
 * A Proxy of `client` whose routed methods go through the guard. Everything else is the client's
 * own: methods are bound to the real object (the SDKs use private class fields), and `instanceof`
 * still holds.
 */
export function wrapClient<C>(
  owner: string,
  client: C,
  guard: Guard,
  options: WrapOptions | undefined,
  routes: Routes,
  credentials: (client: C) => readonly unknown[],
): C {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(`${owner}: client must be an SDK client object, got ${String(client)}`)
  }
  if (typeof (guard as Partial<Guard> | null)?.execute !== 'function') {
    throw new TypeError(`${owner}: guard must be a Guard (an object with execute), got ${String(guard)}`)
  }
  const resolved = resolveWrapOptions(owner, options)
  const fixed = resolved.scope
  const state: ClientState = {
    owner,
    guard,
    options: resolved,
    scope: fixed === undefined ? clientScope(() => credentials(client)) : () => fixed,
  }
  return proxyNode(client, routes, state) as C
}

function proxyNode(target: object, routes: Routes, state: ClientState): object {
  // Built once per property, so `client.chat.completions.create` allocates nothing per access.
  const built = new Map<PropertyKey, unknown>()
  return new Proxy(target, {
    get(t, property) {
      const cached = built.get(property)
      if (cached !== undefined) return cached
      const value: unknown = Reflect.get(t, property)
      const route =
        typeof property === 'string' && Object.hasOwn(routes, property) ? routes[property] : undefined
      let out: unknown
      if (route !== undefined && isEndpoint(route) && typeof value === 'function') {
        const create = (body: unknown, options: Record<string, unknown>) => value.call(t, body, options)
        out = (body: unknown, options?: unknown) => guardedCreate(state, route, create, body, options)
      } else if (route !== undefined && !isEndpoint(route) && typeof value === 'object' && value !== null) {
        out = proxyNode(value, route, state)
      } else if (typeof value === 'function' && property !== 'constructor') {
        out = value.bind(t)
      } else {
        return value // data (apiKey, baseURL) is read live, never cached
      }
      built.set(property, out)
      return out
    },
  })
}
