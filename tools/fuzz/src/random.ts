/**
 * A small seeded pseudo-random generator (mulberry32): the same seed replays the same mutations, so a
 * failure found by the fuzzer is reproduced by its seed and iteration.
 *
 * @packageDocumentation
 */

/** Seeded randomness for the fuzzer. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, bound). */
  below(bound: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** A {@link Random} seeded by a 32-bit integer or a string. */
export function createRandom(seed: number | string): Random {
  let state = typeof seed === 'number' ? seed >>> 0 : hashSeed(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (bound: number) => Math.floor(next() * bound);
  return {
    next,
    below,
    chance: (p) => next() < p,
    bytes: (length) => Uint8Array.from({ length }, () => below(256)),
  };
}

function hashSeed(text: string): number {
  let hash = 2166136261;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}
