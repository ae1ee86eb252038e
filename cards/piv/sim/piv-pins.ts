/**
 * PIN and PUK reference data with their retry counters, as the PIV card application keeps them
 * (SP 800-73-4 part 2 docs/spec/minidriver.md §3.2; YubiKey behaviour for formats and defaults).
 */
import { timingSafeEqualBytes } from './piv-management-key.js';

/** Factory PIN of a YubiKey. */
export const DEFAULT_PIN = '123456';
/** Factory PUK of a YubiKey. */
export const DEFAULT_PUK = '12345678';
/** Factory retry limit of both PIN and PUK. */
export const DEFAULT_RETRIES = 3;

/** The outcome of presenting reference data. */
export type PinCheckResult =
  | { readonly kind: 'verified' }
  | { readonly kind: 'wrong'; readonly retriesLeft: number }
  | { readonly kind: 'blocked' };

/**
 * Pads a PIN or PUK the way PIV does: the characters, then FF up to 8 bytes.
 * Returns undefined when the text is not 1..8 bytes of Latin-1.
 */
export function padReferenceData(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length === 0 || bytes.length > 8 || Buffer.from(bytes).toString('latin1') !== text) return undefined;
  const padded = new Uint8Array(8).fill(0xff);
  padded.set(bytes);
  return padded;
}

/**
 * True when an 8-byte block is acceptable as new PIN/PUK reference data on a YubiKey: 6 to 8 bytes,
 * none of them FF, followed only by FF padding. (YubiKeys accept any byte value, not only digits.)
 */
export function isValidNewReferenceData(block: Uint8Array): boolean {
  if (block.length !== 8) return false;
  let length = block.indexOf(0xff);
  if (length === -1) length = 8;
  for (let index = length; index < 8; index++) if (block[index] !== 0xff) return false;
  return length >= 6;
}

/** One authenticator (PIN 80 or PUK 81): reference data, retry limit and the remaining tries. */
export class ReferenceData {
  #value: Uint8Array;
  #maxRetries: number;
  #retriesLeft: number;
  readonly #factoryValue: Uint8Array;

  constructor(value: Uint8Array, factoryValue: Uint8Array, maxRetries = DEFAULT_RETRIES, retriesLeft = maxRetries) {
    this.#value = Uint8Array.from(value);
    this.#factoryValue = Uint8Array.from(factoryValue);
    this.#maxRetries = maxRetries;
    this.#retriesLeft = retriesLeft;
  }

  /** Remaining tries before the authenticator blocks. */
  get retriesLeft(): number {
    return this.#retriesLeft;
  }

  /** The retry limit a successful verification restores. */
  get maxRetries(): number {
    return this.#maxRetries;
  }

  /** True when no tries are left. */
  get blocked(): boolean {
    return this.#retriesLeft === 0;
  }

  /** True when the reference data still is the factory value (GET METADATA tag 05). */
  isDefault(): boolean {
    return timingSafeEqualBytes(this.#value, this.#factoryValue);
  }

  /**
   * Compares a candidate (8 padded bytes). A blocked authenticator compares nothing; a wrong one costs a try;
   * a right one restores the full count.
   */
  check(candidate: Uint8Array): PinCheckResult {
    if (this.blocked) return { kind: 'blocked' };
    if (candidate.length === 8 && timingSafeEqualBytes(candidate, this.#value)) {
      this.#retriesLeft = this.#maxRetries;
      return { kind: 'verified' };
    }
    this.#retriesLeft -= 1;
    return { kind: 'wrong', retriesLeft: this.#retriesLeft };
  }

  /** Replaces the reference data and restores the full count. */
  change(newValue: Uint8Array): void {
    this.#value.fill(0);
    this.#value = Uint8Array.from(newValue);
    this.#retriesLeft = this.#maxRetries;
  }

  /** Sets a new retry limit and value (YubiKey SET PIN RETRIES resets PIN and PUK to their defaults). */
  resetTo(value: Uint8Array, maxRetries: number): void {
    this.#value.fill(0);
    this.#value = Uint8Array.from(value);
    this.#maxRetries = maxRetries;
    this.#retriesLeft = maxRetries;
  }

  /** A copy of the reference data, for persistence only. */
  exportValue(): Uint8Array {
    return Uint8Array.from(this.#value);
  }
}
