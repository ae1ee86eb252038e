/**
 * @packageDocumentation
 * The status words the simulated GIDS card answers with (docs/spec/gids.md §6), and the internal signal that
 * carries one out of a command handler. Nothing here escapes the simulator: `process` turns it into a
 * response APDU.
 */

/** Status words of the GIDS simulator. */
export const GidsStatus = {
  success: 0x9000,
  wrongLength: 0x6700,
  secureMessagingNotSupported: 0x6882,
  chainingNotSupported: 0x6884,
  securityStatusNotSatisfied: 0x6982,
  authenticationBlocked: 0x6983,
  fileInvalid: 0x6984,
  conditionsNotSatisfied: 0x6985,
  commandNotAllowed: 0x6986,
  incorrectData: 0x6a80,
  functionNotSupported: 0x6a81,
  notFound: 0x6a82,
  notEnoughMemory: 0x6a84,
  incorrectP1P2: 0x6a86,
  referenceNotFound: 0x6a88,
  fileAlreadyExists: 0x6a89,
  instructionNotSupported: 0x6d00,
  classNotSupported: 0x6e00,
  noPreciseDiagnosis: 0x6f00,
} as const;

/** 63Cx: verification failed, x tries left. */
export function retriesStatus(retriesLeft: number): number {
  return 0x63c0 | Math.min(Math.max(retriesLeft, 0), 15);
}

/** Thrown inside a command handler to answer with a status word and no data. */
export class GidsCardStatus extends Error {
  readonly statusWord: number;

  constructor(statusWord: number) {
    super(`status ${statusWord.toString(16).padStart(4, '0')}`);
    this.name = 'GidsCardStatus';
    this.statusWord = statusWord;
  }
}

/** Throws a GidsCardStatus with the status word. */
export function fail(statusWord: number): never {
  throw new GidsCardStatus(statusWord);
}
