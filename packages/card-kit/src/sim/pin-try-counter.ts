/**
 * A secret with a retry counter, as cards keep PINs (ISO/IEC 7816-4 VERIFY, docs/spec/iso7816.md): a
 * wrong value costs a try, a right one restores them all, a blocked secret compares nothing.
 *
 * @packageDocumentation
 */
import { timingSafeEqual } from 'node:crypto';

/** The outcome of presenting a value. */
export type PinCheckOutcome =
  | { readonly kind: 'verified' }
  | { readonly kind: 'wrong'; readonly retriesLeft: number }
  | { readonly kind: 'blocked' };

/** Constant-time equality of two byte strings (false for different lengths). */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One PIN of a simulated card: its value, retry limit and tries left. */
export class PinTryCounter {
  #value: Uint8Array;
  #maxRetries: number;
  #retriesLeft: number;

  constructor(value: Uint8Array, maxRetries: number, retriesLeft = maxRetries) {
    if (!Number.isInteger(maxRetries) || maxRetries < 1 || maxRetries > 15)
      throw new RangeError('retry limit must be 1..15');
    if (!Number.isInteger(retriesLeft) || retriesLeft < 0 || retriesLeft > maxRetries)
      throw new RangeError('tries left must be 0..limit');
    this.#value = Uint8Array.from(value);
    this.#maxRetries = maxRetries;
    this.#retriesLeft = retriesLeft;
  }

  /** Tries left before the PIN blocks. */
  get retriesLeft(): number {
    return this.#retriesLeft;
  }

  /** The retry limit a right value restores. */
  get maxRetries(): number {
    return this.#maxRetries;
  }

  /** True when no tries are left. */
  get blocked(): boolean {
    return this.#retriesLeft === 0;
  }

  /** Compares `candidate` in constant time; a wrong one costs a try, a right one restores them all. */
  check(candidate: Uint8Array): PinCheckOutcome {
    if (this.blocked) return { kind: 'blocked' };
    if (timingSafeEqualBytes(candidate, this.#value)) {
      this.#retriesLeft = this.#maxRetries;
      return { kind: 'verified' };
    }
    this.#retriesLeft -= 1;
    return this.#retriesLeft === 0 ? { kind: 'blocked' } : { kind: 'wrong', retriesLeft: this.#retriesLeft };
  }

  /** True when `candidate` is the value, without touching the counter (for "is this the default?"). */
  matches(candidate: Uint8Array): boolean {
    return timingSafeEqualBytes(candidate, this.#value);
  }

  /** Replaces the value (the old one is wiped) and restores the tries; optionally a new limit. */
  change(value: Uint8Array, maxRetries = this.#maxRetries): void {
    this.#value.fill(0);
    this.#value = Uint8Array.from(value);
    this.#maxRetries = maxRetries;
    this.#retriesLeft = maxRetries;
  }

  /** A copy of the value, for a simulator's saved state only. */
  exportValue(): Uint8Array {
    return Uint8Array.from(this.#value);
  }
}
