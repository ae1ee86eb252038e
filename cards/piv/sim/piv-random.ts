/**
 * The simulator's source of card randomness (GUID, CCC card id, serial, management-key witnesses).
 * With a seed it is a deterministic SHA-256 counter generator, so tests can reproduce a card; without one it
 * is node:crypto's CSPRNG. Key pairs always come from node:crypto and cannot be seeded.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A source of random bytes. */
export interface RandomSource {
  /** Returns `length` fresh bytes. */
  nextBytes(length: number): Uint8Array;
}

/** The system CSPRNG. */
export const systemRandom: RandomSource = {
  nextBytes: (length) => new Uint8Array(randomBytes(length)),
};

/** A deterministic generator: block i = SHA-256(seed || i as 4 bytes big-endian). */
export function seededRandom(seed: Uint8Array | string): RandomSource {
  const seedBytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : Uint8Array.from(seed);
  let counter = 0;
  let pool = new Uint8Array(0);
  return {
    nextBytes(length) {
      while (pool.length < length) {
        const counterBytes = new Uint8Array(4);
        new DataView(counterBytes.buffer).setUint32(0, counter++);
        const block = createHash('sha256').update(seedBytes).update(counterBytes).digest();
        const merged = new Uint8Array(pool.length + block.length);
        merged.set(pool);
        merged.set(block, pool.length);
        pool = merged;
      }
      const result = pool.slice(0, length);
      pool = pool.slice(length);
      return result;
    },
  };
}
