/**
 * @packageDocumentation
 * The GIDS user PIN (reference `80`): raw bytes of 4 to 16, a try counter, and the VERIFY / CHANGE REFERENCE
 * DATA / RESET RETRY COUNTER rules of docs/spec/gids.md §4.2. Comparisons run in constant time; old values are
 * wiped when replaced.
 */
import { failWith, PinTryCounter, retriesLeftStatus } from '@minidriver/card-kit/sim';
import { SW } from '@minidriver/iso7816';

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

/** The user PIN and its counter: the value and tries are the kit's {@link PinTryCounter}, once the PIN is set. */
export class GidsPin {
  #counter: PinTryCounter | undefined;
  readonly tryLimit: number;
  /** Volatile: verified in this card session. */
  verified = false;

  constructor(tryLimit = PIN_TRY_LIMIT) {
    this.tryLimit = tryLimit;
  }

  get triesLeft(): number {
    return this.#counter?.retriesLeft ?? this.tryLimit;
  }

  get isSet(): boolean {
    return this.#counter !== undefined;
  }

  /** Throws 63Cx when `length` is not a PIN length (GidsApplet answers a bad length this way). */
  checkLength(length: number): void {
    if (length < PIN_MIN_LENGTH || length > PIN_MAX_LENGTH) failWith(retriesLeftStatus(this.triesLeft));
  }

  /** Presents `candidate`: a wrong one costs a try (63Cx) and clears the verified state, a right one verifies. */
  #check(candidate: Uint8Array): void {
    const outcome = this.#counter?.check(candidate) ?? { kind: 'wrong' as const, retriesLeft: this.triesLeft };
    if (outcome.kind === 'verified') {
      this.verified = true;
      return;
    }
    this.verified = false;
    failWith(retriesLeftStatus(outcome.kind === 'blocked' ? 0 : outcome.retriesLeft));
  }

  /** VERIFY with data: 6984 when blocked, 63Cx on a mismatch (counter decremented), else verified. */
  verify(candidate: Uint8Array): void {
    if (this.triesLeft === 0) failWith(SW.REFERENCE_DATA_NOT_USABLE);
    this.checkLength(candidate.length);
    this.#check(candidate);
  }

  /**
   * CHANGE REFERENCE DATA P1 00: `data` = old PIN ‖ new PIN, split at the stored PIN's length. Wrong old PIN →
   * 63Cx (counter decremented); success verifies the PIN.
   */
  change(data: Uint8Array): void {
    if (data.length < 2 * PIN_MIN_LENGTH || data.length > 2 * PIN_MAX_LENGTH) {
      failWith(retriesLeftStatus(this.triesLeft));
    }
    if (this.triesLeft === 0) failWith(SW.REFERENCE_DATA_NOT_USABLE);
    const stored = this.#counter?.exportValue();
    const oldLength = Math.min(stored?.length ?? 0, data.length);
    stored?.fill(0);
    this.#check(data.subarray(0, oldLength));
    const next = data.subarray(oldLength);
    if (next.length < PIN_MIN_LENGTH || next.length > PIN_MAX_LENGTH) failWith(SW.WRONG_LENGTH);
    this.set(next);
    this.verified = true;
  }

  /** Sets a new value (initialization, reset by the admin); the counter is reset. */
  set(value: Uint8Array): void {
    this.checkLength(value.length);
    if (this.#counter === undefined) this.#counter = new PinTryCounter(value, this.tryLimit);
    else this.#counter.change(value);
  }

  toState(): GidsPinState {
    const value = this.#counter?.exportValue();
    try {
      return {
        value: value === undefined ? null : Buffer.from(value).toString('hex'),
        triesLeft: this.triesLeft,
        tryLimit: this.tryLimit,
      };
    } finally {
      value?.fill(0);
    }
  }

  static fromState(state: GidsPinState): GidsPin {
    const pin = new GidsPin(state.tryLimit);
    if (!Number.isInteger(state.triesLeft) || state.triesLeft < 0 || state.triesLeft > state.tryLimit) {
      throw new Error('invalid PIN counter');
    }
    if (state.value !== null) {
      pin.#counter = new PinTryCounter(
        Uint8Array.from(Buffer.from(state.value, 'hex')),
        state.tryLimit,
        state.triesLeft,
      );
    }
    return pin;
  }
}
