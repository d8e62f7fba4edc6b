/** `breakwater/redis`: Redis-backed state shared by a fleet of processes (ioredis, Redis >= 7). */
export * from './circuit/backends/redis/index.js'
export {
  RedisCompactionStore,
  type RedisCompactionStoreOptions,
  type RedisStoreClient,
  type RedisMulti,
} from './pipeline/redis-compaction-store.js'
export * from './ratelimit/redis/index.js'
