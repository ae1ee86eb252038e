/**
 * ISO 7816-4 interindustry status words: names, human descriptions, and the mapping of a
 * final status word to the minidriver `ScardError` (docs/spec/iso7816.md §3 and §4.3).
 */
import { type ScardCodeName, ScardError } from '@minidriver/spec';

/** Interindustry status words (docs/spec/iso7816.md §3). Families such as `61xx` are given with xx = 00. */
export const SW = {
  SUCCESS: 0x9000,
  BYTES_AVAILABLE: 0x6100,
  WARNING_NV_UNCHANGED: 0x6200,
  DATA_MAY_BE_CORRUPTED: 0x6281,
  END_OF_FILE: 0x6282,
  FILE_DEACTIVATED: 0x6283,
  FCI_NOT_FORMATTED: 0x6284,
  FILE_TERMINATED: 0x6285,
  NO_SENSOR_DATA: 0x6286,
  WARNING_NV_CHANGED: 0x6300,
  FILE_FILLED_UP: 0x6381,
  COUNTER: 0x63c0,
  EXECUTION_ERROR: 0x6400,
  IMMEDIATE_RESPONSE_REQUIRED: 0x6401,
  MEMORY_FAILURE: 0x6581,
  SECURITY_ISSUE: 0x6600,
  WRONG_LENGTH: 0x6700,
  CLA_FUNCTIONS_NOT_SUPPORTED: 0x6800,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  LAST_COMMAND_OF_CHAIN_EXPECTED: 0x6883,
  CHAINING_NOT_SUPPORTED: 0x6884,
  COMMAND_NOT_ALLOWED: 0x6900,
  INCOMPATIBLE_FILE_STRUCTURE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED_NO_EF: 0x6986,
  SM_DATA_OBJECTS_MISSING: 0x6987,
  SM_DATA_OBJECTS_INCORRECT: 0x6988,
  WRONG_P1P2_NO_INFO: 0x6a00,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  NC_INCONSISTENT_WITH_TLV: 0x6a85,
  INCORRECT_P1P2: 0x6a86,
  NC_INCONSISTENT_WITH_P1P2: 0x6a87,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  FILE_ALREADY_EXISTS: 0x6a89,
  DF_NAME_ALREADY_EXISTS: 0x6a8a,
  WRONG_P1P2: 0x6b00,
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

/** Exact descriptions, keyed by status word (docs/spec/iso7816.md §3). */
const DESCRIPTIONS: ReadonlyMap<number, string> = new Map([
  [0x9000, 'success'],
  [0x6200, 'warning: non-volatile memory unchanged'],
  [0x6281, 'warning: part of returned data may be corrupted'],
  [0x6282, 'warning: end of file or record reached before Le bytes were read'],
  [0x6283, 'warning: selected file deactivated'],
  [0x6284, 'warning: FCI not formatted according to ISO 7816-4'],
  [0x6285, 'warning: selected file or application in termination state'],
  [0x6286, 'warning: no input data available from a sensor'],
  [0x6300, 'warning: non-volatile memory changed (PIV: verification failed)'],
  [0x6381, 'warning: file filled up by the last write'],
  [0x6400, 'execution error: non-volatile memory unchanged'],
  [0x6401, 'execution error: immediate response required by the card'],
  [0x6581, 'execution error: memory failure'],
  [0x6700, 'wrong length (Lc or Le)'],
  [0x6800, 'functions in CLA not supported'],
  [0x6881, 'logical channel not supported'],
  [0x6882, 'secure messaging not supported'],
  [0x6883, 'last command of the chain expected'],
  [0x6884, 'command chaining not supported'],
  [0x6900, 'command not allowed'],
  [0x6981, 'command incompatible with file structure'],
  [0x6982, 'security status not satisfied'],
  [0x6983, 'authentication method blocked'],
  [0x6984, 'reference data not usable'],
  [0x6985, 'conditions of use not satisfied'],
  [0x6986, 'command not allowed (no current EF)'],
  [0x6987, 'expected secure messaging data objects missing'],
  [0x6988, 'secure messaging data objects incorrect'],
  [0x6a00, 'wrong parameters P1-P2'],
  [0x6a80, 'incorrect parameters in the data field'],
  [0x6a81, 'function not supported'],
  [0x6a82, 'file, application or data object not found'],
  [0x6a83, 'record not found'],
  [0x6a84, 'not enough memory space in the file'],
  [0x6a85, 'Nc inconsistent with TLV structure'],
  [0x6a86, 'incorrect parameters P1-P2'],
  [0x6a87, 'Nc inconsistent with P1-P2'],
  [0x6a88, 'referenced data not found'],
  [0x6a89, 'file already exists'],
  [0x6a8a, 'DF name already exists'],
  [0x6b00, 'wrong parameters P1-P2'],
  [0x6d00, 'instruction code not supported or invalid'],
  [0x6e00, 'class not supported'],
  [0x6f00, 'no precise diagnosis'],
]);

/** `SW1 SW2` as four upper-case hex digits, e.g. `6A82`. */
export function formatStatusWord(statusWord: number): string {
  return (statusWord & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * The human meaning of a status word, for traces and error messages
 * (`describeStatusWord(0x63c2) === 'verification failed, 2 tries left'`).
 */
export function describeStatusWord(statusWord: number): string {
  const exact = DESCRIPTIONS.get(statusWord);
  if (exact !== undefined) return exact;
  const sw1 = (statusWord >> 8) & 0xff;
  const sw2 = statusWord & 0xff;
  if (sw1 === 0x61) return `success, ${sw2 === 0 ? '256 or more' : sw2} further response bytes available`;
  if (sw1 === 0x6c) return `wrong Le, exact length is ${sw2 === 0 ? 256 : sw2}`;
  if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) {
    const tries = sw2 & 0x0f;
    return `verification failed, ${tries} ${tries === 1 ? 'try' : 'tries'} left (counter ${tries})`;
  }
  if (sw1 === 0x62) return 'warning: non-volatile memory unchanged';
  if (sw1 === 0x63) return 'warning: non-volatile memory changed';
  if (sw1 === 0x64) return 'execution error: non-volatile memory unchanged';
  if (sw1 === 0x65) return 'execution error: non-volatile memory changed';
  if (sw1 === 0x66) return 'security-related issue';
  if (sw1 === 0x67) return 'wrong length';
  if (sw1 === 0x68) return 'functions in CLA not supported';
  if (sw1 === 0x69) return 'command not allowed';
  if (sw1 === 0x6a) return 'wrong parameters P1-P2';
  if (sw1 === 0x90) return 'success (proprietary SW2)';
  return 'unknown status word';
}

/** True for `9000`. */
export function isSuccess(statusWord: number): boolean {
  return statusWord === SW.SUCCESS;
}

/**
 * The retry counter carried by `63Cx` (x = 0..15), or undefined for any other status word.
 * With `acceptLegacyCounter`, `630x` (YubiKey NEO quirk, docs/spec/iso7816.md §3) counts too — pass it only
 * for VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER.
 */
export function retriesFromStatusWord(
  statusWord: number,
  options: { acceptLegacyCounter?: boolean } = {},
): number | undefined {
  if ((statusWord & 0xfff0) === 0x63c0) return statusWord & 0x0f;
  if (options.acceptLegacyCounter && (statusWord & 0xfff0) === 0x6300 && statusWord !== 0x6300) {
    return statusWord & 0x0f;
  }
  return undefined;
}

/** Options for {@link statusWordToScardError}. */
export interface StatusWordMappingOptions {
  /**
   * The command was VERIFY, CHANGE REFERENCE DATA or RESET RETRY COUNTER: `630x` counts as a retry
   * counter, `6300` means "wrong PIN" and `6A80` means the card rejected the PIN format
   * (SCARD_E_INVALID_CHV), per docs/spec/iso7816.md §4.3.
   */
  readonly pinCommand?: boolean;
}

/** The code for a status word that carries no retry counter (docs/spec/iso7816.md §4.3, SW-only rows). */
function codeForStatusWord(statusWord: number): ScardCodeName {
  switch (statusWord) {
    case 0x6982:
    case 0x6900:
    case 0x6985:
    case 0x6986:
      return 'SCARD_W_SECURITY_VIOLATION';
    case 0x6983:
      return 'SCARD_W_CHV_BLOCKED';
    case 0x6a82:
    case 0x6a88:
      return 'SCARD_E_FILE_NOT_FOUND';
    // "6A84: card full" (docs/spec/iso7816.md §4.3). NO_MEMORY is the host's allocation failure (docs/spec/iso7816.md §4.1).
    case 0x6a84:
      return 'SCARD_E_WRITE_TOO_MANY';
    // Data that exists but cannot be read or kept intact: 6281 (returned data may be corrupted) and 6581
    // (memory failure) → SCARD_E_COMM_DATA_LOST, never FILE_NOT_FOUND (docs/spec/minidriver.md §1.5).
    case 0x6281:
    case 0x6581:
      return 'SCARD_E_COMM_DATA_LOST';
    case 0x6700:
    case 0x6a00:
    case 0x6a80:
    case 0x6a85:
    case 0x6a86:
    case 0x6a87:
    case 0x6b00:
    case 0x6987:
      return 'SCARD_E_INVALID_PARAMETER';
    case 0x6800:
    case 0x6a81:
    case 0x6d00:
    case 0x6e00:
    case 0x6881:
    case 0x6882:
    case 0x6884:
      return 'SCARD_E_UNSUPPORTED_FEATURE';
    // PIV secure messaging session lost; the caller may re-establish SM and retry once (docs/spec/iso7816.md §4.3).
    case 0x6988:
      return 'SCARD_E_COMM_DATA_LOST';
    case 0x6283:
    case 0x6285:
      return 'SCARD_E_CARD_UNSUPPORTED';
    default:
      return 'SCARD_E_UNEXPECTED';
  }
}

/**
 * Turns a final (non-9000) status word into the `ScardError` a minidriver returns, following
 * docs/spec/iso7816.md §4.3. The error carries `.statusWord`, and `.retriesLeft` for PIN counters:
 * `63Cx` (x > 0) → SCARD_W_WRONG_CHV with retriesLeft x; `63C0` and `6983` → SCARD_W_CHV_BLOCKED
 * with retriesLeft 0. `61xx`/`6Cxx` never reach here when a {@link CardChannel} is used; they map to
 * SCARD_E_UNEXPECTED, as does `9000` (it is not an error) and any unknown status word.
 *
 * @param context Short description of the operation for the message (never a PIN or key).
 */
export function statusWordToScardError(
  statusWord: number,
  context?: string,
  options: StatusWordMappingOptions = {},
): ScardError {
  const description = describeStatusWord(statusWord);
  const message = `${context ? `${context}: ` : ''}${description} (SW ${formatStatusWord(statusWord)})`;
  const retries = retriesFromStatusWord(statusWord, { acceptLegacyCounter: options.pinCommand === true });
  if (retries !== undefined) {
    const code: ScardCodeName = retries === 0 ? 'SCARD_W_CHV_BLOCKED' : 'SCARD_W_WRONG_CHV';
    return new ScardError(code, message, { statusWord, retriesLeft: retries });
  }
  if (options.pinCommand && statusWord === 0x6300) {
    return new ScardError('SCARD_W_WRONG_CHV', message, { statusWord });
  }
  if (options.pinCommand && statusWord === 0x6a80) {
    return new ScardError('SCARD_E_INVALID_CHV', message, { statusWord });
  }
  if (statusWord === 0x6983) return new ScardError('SCARD_W_CHV_BLOCKED', message, { statusWord, retriesLeft: 0 });
  return new ScardError(codeForStatusWord(statusWord), message, { statusWord });
}
