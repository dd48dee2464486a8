/**
 * Identifiers: UUIDv7 (time-ordered, so ids sort by creation) from the Web Crypto RNG.
 * Pure computation over a random source and a clock; no I/O.
 */
const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * Random bytes drawn POOL bytes at a time: every event gets an id, and one draw per id (a call
 * through Web Crypto's argument checks) cost as much as the rest of stamping a batch's events.
 * Each id takes fresh bytes of the pool; none is used twice.
 */
const POOL = 4096
let pool = new Uint8Array(0)
let taken = 0

/** 16 fresh random bytes, copied out of the pool (the caller may change them). */
const random16 = (): Uint8Array => {
  if (taken + 16 > pool.length) {
    pool = new Uint8Array(POOL)
    globalThis.crypto.getRandomValues(pool)
    taken = 0
  }
  const b = pool.slice(taken, taken + 16)
  taken += 16
  return b
}

/** A UUIDv7 as 32 lowercase hex digits with dashes (8-4-4-4-12). */
export const uuidv7 = (now: number = Date.now()): string => {
  const b = random16()
  let ms = Math.floor(now)
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  b[6] = (b[6] & 0x0f) | 0x70
  b[8] = (b[8] & 0x3f) | 0x80
  let s = ""
  for (let i = 0; i < 16; i++) {
    s += hex[b[i]]
    if (i === 3 || i === 5 || i === 7 || i === 9) s += "-"
  }
  return s
}

/**
 * A run or experiment id: 32 random hex digits (a UUIDv4 without dashes, MLflow's run id shape).
 * Random rather than time-ordered so that a short prefix (`runledger show 3f9a1c`) is unique even
 * for runs started in the same millisecond.
 */
export const newId = (): string => {
  const b = random16()
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  let s = ""
  for (let i = 0; i < 16; i++) s += hex[b[i]]
  return s
}

const adjectives = ["amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "fair", "fleet", "gentle", "glad", "keen", "lucid", "merry", "noble", "quick", "quiet", "rapid", "sharp", "sleek", "steady", "sunny", "swift", "vivid", "warm", "wise"]
const nouns = ["otter", "falcon", "heron", "lynx", "panda", "raven", "tiger", "whale", "wolf", "yak", "bison", "crane", "eagle", "finch", "gecko", "ibis", "koala", "lemur", "moose", "newt", "orca", "puma", "robin", "seal", "stork", "zebra"]

/** A readable default run name derived from the id, e.g. `swift-otter-417`. */
export const runNameFromId = (id: string): string => {
  const n = parseInt(id.slice(-8), 16)
  return `${adjectives[n % adjectives.length]}-${nouns[Math.floor(n / 26) % nouns.length]}-${Math.floor(n / 676) % 1000}`
}
