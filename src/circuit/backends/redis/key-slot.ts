/** Hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16_384

/** CRC16 (XMODEM, polynomial 0x1021), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

const utf8 = new TextEncoder()

/**
 * The Cluster slot of a key or shard channel, as Redis computes it: only the hash tag (the part
 * between the first `{` and the next `}`) counts when it is not empty. Used to find the master
 * a sharded subscription belongs on without asking (CLUSTER KEYSLOT would be a round trip).
 */
export function keySlot(key: string): number {
  const bytes = utf8.encode(key)
  const open = bytes.indexOf(0x7b)
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % CLUSTER_SLOTS
  }
  return crc16(bytes) % CLUSTER_SLOTS
}
