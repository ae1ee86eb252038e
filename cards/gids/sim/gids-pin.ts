/**
 * @packageDocumentation
 * The GIDS user PIN (reference `80`): raw bytes of 4 to 16, a try counter, and the VERIFY / CHANGE REFERENCE
 * DATA / RESET RETRY COUNTER rules of docs/spec/gids.md §4.2. Comparisons run in constant time; old values are
 * wiped when replaced.
 */
import { timingSafeEqual } from 'node:crypto';
import { fail, GidsStatus, retriesStatus } from './gids-status.js';

export const PIN_MIN_LENGTH = 4;
export const PIN_MAX_LENGTH = 16;
export const PIN_TRY_LIMIT = 3;

/** The persisted form of the PIN. */
export interface GidsPinState {
  /** Hex of the PIN bytes, or null before the PIN is set. */
  readonly value: string | null;
  readonly triesLeft: number;
  readonly tryLimit: number;
}

/** The user PIN and its counter. */
export class GidsPin {
  #value: Uint8Array | undefined;
  #triesLeft: number;
  readonly tryLimit: number;
  /** Volatile: verified in this card session. */
  verified = false;

  constructor(tryLimit = PIN_TRY_LIMIT) {
    this.tryLimit = tryLimit;
    this.#triesLeft = tryLimit;
  }

  get triesLeft(): number {
    return this.#triesLeft;
  }

  get isSet(): boolean {
    return this.#value !== undefined;
  }

  /** Throws 63Cx when `length` is not a PIN length (GidsApplet answers a bad length this way). */
  checkLength(length: number): void {
    if (length < PIN_MIN_LENGTH || length > PIN_MAX_LENGTH) fail(retriesStatus(this.#triesLeft));
  }

  /** VERIFY with data: 6984 when blocked, 63Cx on a mismatch (counter decremented), else verified. */
  verify(candidate: Uint8Array): void {
    if (this.#triesLeft === 0) fail(GidsStatus.fileInvalid);
    this.checkLength(candidate.length);
    if (!this.matches(candidate)) {
      this.#triesLeft--;
      this.verified = false;
      fail(retriesStatus(this.#triesLeft));
    }
    this.#triesLeft = this.tryLimit;
    this.verified = true;
  }

  /** True when `candidate` is the PIN (constant time for equal lengths). */
  matches(candidate: Uint8Array): boolean {
    const value = this.#value;
    if (value === undefined || candidate.length !== value.length) return false;
    return timingSafeEqual(value, candidate);
  }

  /**
   * CHANGE REFERENCE DATA P1 00: `data` = old PIN ‖ new PIN, split at the stored PIN's length. Wrong old PIN →
   * 63Cx (counter decremented); success verifies the PIN.
   */
  change(data: Uint8Array): void {
    const value = this.#value;
    if (data.length < 2 * PIN_MIN_LENGTH || data.length > 2 * PIN_MAX_LENGTH) fail(retriesStatus(this.#triesLeft));
    if (this.#triesLeft === 0) fail(GidsStatus.fileInvalid);
    const oldLength = Math.min(value?.length ?? 0, data.length);
    const old = data.subarray(0, oldLength);
    if (!this.matches(old)) {
      this.#triesLeft = Math.max(0, this.#triesLeft - 1);
      this.verified = false;
      fail(retriesStatus(this.#triesLeft));
    }
    const next = data.subarray(oldLength);
    if (next.length < PIN_MIN_LENGTH || next.length > PIN_MAX_LENGTH) fail(GidsStatus.wrongLength);
    this.set(next);
    this.#triesLeft = this.tryLimit;
    this.verified = true;
  }

  /** Sets a new value (initialization, reset by the admin); the counter is reset. */
  set(value: Uint8Array): void {
    this.checkLength(value.length);
    this.#value?.fill(0);
    this.#value = Uint8Array.from(value);
    this.#triesLeft = this.tryLimit;
  }

  toState(): GidsPinState {
    return {
      value: this.#value === undefined ? null : Buffer.from(this.#value).toString('hex'),
      triesLeft: this.#triesLeft,
      tryLimit: this.tryLimit,
    };
  }

  static fromState(state: GidsPinState): GidsPin {
    const pin = new GidsPin(state.tryLimit);
    if (!Number.isInteger(state.triesLeft) || state.triesLeft < 0 || state.triesLeft > state.tryLimit) {
      throw new Error('invalid PIN counter');
    }
    if (state.value !== null) pin.#value = Uint8Array.from(Buffer.from(state.value, 'hex'));
    pin.#triesLeft = state.triesLeft;
    return pin;
  }
}
