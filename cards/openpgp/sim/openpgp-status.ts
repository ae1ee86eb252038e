/**
 * The status words the OpenPGP card answers (docs/spec/openpgp.md §5), and the internal signal a command
 * handler raises to answer one. The signal never leaves the simulator: `process()` turns it into an
 * R-APDU.
 */
import { SW } from '@minidriver/iso7816';

/** Status words used by this card, named after their meaning in the OpenPGP card specification. */
export const OpenPgpStatus = {
  success: SW.SUCCESS,
  selectedFileTerminated: SW.FILE_TERMINATED,
  wrongLength: SW.WRONG_LENGTH,
  logicalChannelNotSupported: SW.LOGICAL_CHANNEL_NOT_SUPPORTED,
  secureMessagingNotSupported: SW.SECURE_MESSAGING_NOT_SUPPORTED,
  lastCommandOfChainExpected: SW.LAST_COMMAND_OF_CHAIN_EXPECTED,
  securityStatusNotSatisfied: SW.SECURITY_STATUS_NOT_SATISFIED,
  authenticationMethodBlocked: SW.AUTH_METHOD_BLOCKED,
  conditionsOfUseNotSatisfied: SW.CONDITIONS_NOT_SATISFIED,
  incorrectData: SW.INCORRECT_DATA,
  fileNotFound: SW.FILE_NOT_FOUND,
  referencedDataNotFound: SW.REFERENCED_DATA_NOT_FOUND,
  wrongParameters: SW.WRONG_P1P2,
  insNotSupported: SW.INS_NOT_SUPPORTED,
  claNotSupported: SW.CLA_NOT_SUPPORTED,
  noPreciseDiagnosis: SW.NO_PRECISE_DIAGNOSIS,
} as const;

/** `63Cx`: a PIN check failed or is pending, x tries left. */
export function retriesStatus(retriesLeft: number): number {
  return 0x63c0 | Math.min(retriesLeft, 15);
}

/**
 * Thrown by a command handler to answer with a status word instead of data. Internal to the simulator:
 * the dispatcher catches it, so it never reaches a caller of a public API.
 */
export class CardStatus extends Error {
  readonly statusWord: number;
  constructor(statusWord: number) {
    super(`card status ${statusWord.toString(16).padStart(4, '0')}`);
    this.name = 'CardStatus';
    this.statusWord = statusWord;
  }
}

/** Throws `CardStatus(statusWord)` when `condition` is false. */
export function requireCondition(condition: boolean, statusWord: number): asserts condition {
  if (!condition) throw new CardStatus(statusWord);
}
