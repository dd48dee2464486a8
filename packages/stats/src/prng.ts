/**
 * A tiny seeded PRNG for resampling. Bootstrap intervals shown next to runs must be
 * reproducible (same runs + same seed = same interval on every reload and every machine), which
 * Math.random cannot give; statistical quality beyond "passes basic equidistribution" is not
 * needed for percentile bootstraps, and mulberry32 is small, fast and well known.
 */

/** A generator of uniform doubles in [0, 1). */
export type Random = () => number

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, period 2^32. The seed is reduced to an unsigned
 * 32-bit integer (fractional parts dropped), so seeds that agree modulo 2^32 give the same stream.
 */
export const mulberry32 = (seed: number): Random => {
  let state = Math.trunc(seed) >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}
