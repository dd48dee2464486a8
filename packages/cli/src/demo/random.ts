/**
 * A small seeded pseudo-random number generator. Everything stochastic in the demo (data,
 * splits, weight initialisation, mini-batch order) draws from one of these, so a seed
 * reproduces a run bit for bit on any machine: Math.random cannot be seeded.
 */

/** A seeded source of randomness. */
export interface Rng {
  /** A uniform float in [0, 1). */
  next(): number
  /** A standard normal deviate (mean 0, variance 1). */
  normal(): number
  /** A uniform integer in [0, n). */
  int(n: number): number
  /** Fisher-Yates shuffles `items` in place and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(items: A): A
  /**
   * A new generator seeded from this one. Giving each sub-task its own fork keeps their
   * streams independent: drawing more numbers in one does not shift the others.
   */
  fork(): Rng
}

/**
 * mulberry32: 32 bits of state, one multiply-xorshift round per draw. Not cryptographic, but
 * statistically fine for simulation and, unlike xoshiro, it needs no seeding procedure.
 * Any safe integer is accepted as a seed; it is reduced to its low 32 bits.
 */
export const createRng = (seed: number): Rng => {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`)
  let state = seed >>> 0
  // Box-Muller yields deviates in pairs; keep the second for the next call.
  let spareNormal: number | undefined

  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  const normal = (): number => {
    if (spareNormal !== undefined) {
      const value = spareNormal
      spareNormal = undefined
      return value
    }
    // 1 - next() lies in (0, 1], so the logarithm stays finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()))
    const angle = 2 * Math.PI * next()
    spareNormal = radius * Math.sin(angle)
    return radius * Math.cos(angle)
  }

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`)
    return Math.floor(next() * n)
  }

  const shuffle = <A extends { length: number; [index: number]: unknown }>(items: A): A => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      const held = items[i]
      items[i] = items[j]
      items[j] = held
    }
    return items
  }

  const fork = (): Rng => createRng(Math.floor(next() * 4294967296))

  return { next, normal, int, shuffle, fork }
}
