/** `breakwater/redis`: Redis-backed state shared by a fleet of processes (ioredis, Redis >= 7). */
export {}
