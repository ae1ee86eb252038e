/**
 * The one way a simulated card's command handler refuses a command: throw a {@link CardStatusError} with
 * the ISO/IEC 7816-4 status word the card answers (docs/spec/iso7816.md).
 *
 * @packageDocumentation
 */

/** A status word other than 90 00 raised by a simulated card's handler; the dispatcher answers it. */
export class CardStatusError extends Error {
  /** SW1 SW2, e.g. 0x6a82. */
  readonly statusWord: number;

  constructor(statusWord: number, message?: string) {
    super(message ?? `card status ${statusWord.toString(16).padStart(4, '0')}`);
    this.name = 'CardStatusError';
    this.statusWord = statusWord;
  }
}

/** Throws a {@link CardStatusError} with `statusWord`. */
export function failWith(statusWord: number, message?: string): never {
  throw new CardStatusError(statusWord, message);
}

/** 63 Cx: a verification failed and x tries are left (x clamped to 0..15, ISO/IEC 7816-4 counter). */
export function retriesLeftStatus(retriesLeft: number): number {
  return 0x63c0 | Math.min(Math.max(retriesLeft, 0), 15);
}
