/**
 * The status words the simulated PIV card answers with, and the internal signal that carries one
 * out of a command handler. Nothing here escapes the simulator: `process` turns it into a response APDU.
 */

/** Status words used by the PIV simulator (ISO 7816-4, SP 800-73-4 part 2 docs/spec/minidriver.md §5.6, YubiKey). */
export const PivStatus = {
  success: 0x9000,
  wrongLength: 0x6700,
  securityStatusNotSatisfied: 0x6982,
  authenticationBlocked: 0x6983,
  conditionsOfUseNotSatisfied: 0x6985,
  secureMessagingNotSupported: 0x6882,
  lastCommandOfChainExpected: 0x6883,
  incorrectData: 0x6a80,
  functionNotSupported: 0x6a81,
  notFound: 0x6a82,
  notEnoughMemory: 0x6a84,
  incorrectP1P2: 0x6a86,
  referenceNotFound: 0x6a88,
  instructionNotSupported: 0x6d00,
  classNotSupported: 0x6e00,
  noPreciseDiagnosis: 0x6f00,
} as const;

/** 63Cx: verification failed, x tries left. */
export function retriesStatus(retriesLeft: number): number {
  return 0x63c0 | Math.min(Math.max(retriesLeft, 0), 15);
}

/** Thrown inside a command handler to answer with a status word and no data. */
export class CardStatus extends Error {
  readonly statusWord: number;

  constructor(statusWord: number) {
    super(`status ${statusWord.toString(16).padStart(4, '0')}`);
    this.name = 'CardStatus';
    this.statusWord = statusWord;
  }
}

/** Throws a CardStatus with the status word. */
export function fail(statusWord: number): never {
  throw new CardStatus(statusWord);
}
