/**
 * @packageDocumentation
 * PKCS #11 return values for everything that fails: {@link Pkcs11Error} carries a CK_RV, and
 * {@link ckrFromError} is the one table that maps the ScardError codes of the layers below to a CK_RV.
 */
import { ScardError } from '@minidriver/spec';
import { CKR } from './constants.js';

/** A PKCS #11 failure with its CK_RV; the message is for logs (it never holds a PIN or key). */
export class Pkcs11Error extends Error {
  override readonly name = 'Pkcs11Error';

  constructor(
    readonly rv: number,
    message?: string,
  ) {
    super(message ?? ckrName(rv));
  }
}

/** Throws a Pkcs11Error with `rv` unless `condition` holds. */
export function check(condition: unknown, rv: number, message?: string): asserts condition {
  if (!condition) throw new Pkcs11Error(rv, message);
}

/**
 * The CK_RV for each ScardError code (by name). Codes not listed map to CKR_FUNCTION_FAILED (the card
 * or the stack failed in a way PKCS #11 has no closer word for). SCARD_W_WRONG_CHV becomes
 * CKR_PIN_LOCKED instead when no retry is left (see {@link ckrFromError}).
 */
export const SCARD_TO_CKR: Readonly<Record<string, number>> = {
  SCARD_E_CANCELLED: CKR.FUNCTION_CANCELED,
  SCARD_W_CANCELLED_BY_USER: CKR.FUNCTION_CANCELED,
  SCARD_E_SYSTEM_CANCELLED: CKR.FUNCTION_CANCELED,
  SCARD_E_INVALID_PARAMETER: CKR.ARGUMENTS_BAD,
  SCARD_E_INVALID_VALUE: CKR.ARGUMENTS_BAD,
  SCARD_E_INSUFFICIENT_BUFFER: CKR.BUFFER_TOO_SMALL,
  SCARD_E_NO_MEMORY: CKR.HOST_MEMORY,
  SCARD_E_UNSUPPORTED_FEATURE: CKR.FUNCTION_NOT_SUPPORTED,
  SCARD_E_NO_SMARTCARD: CKR.TOKEN_NOT_PRESENT,
  SCARD_W_REMOVED_CARD: CKR.DEVICE_REMOVED,
  SCARD_W_RESET_CARD: CKR.DEVICE_REMOVED,
  SCARD_W_UNPOWERED_CARD: CKR.DEVICE_REMOVED,
  SCARD_E_READER_UNAVAILABLE: CKR.DEVICE_REMOVED,
  SCARD_E_UNKNOWN_READER: CKR.SLOT_ID_INVALID,
  SCARD_E_UNKNOWN_CARD: CKR.TOKEN_NOT_RECOGNIZED,
  SCARD_E_CARD_UNSUPPORTED: CKR.TOKEN_NOT_RECOGNIZED,
  SCARD_W_UNSUPPORTED_CARD: CKR.TOKEN_NOT_RECOGNIZED,
  SCARD_E_NO_SERVICE: CKR.DEVICE_ERROR,
  SCARD_E_SERVICE_STOPPED: CKR.DEVICE_ERROR,
  SCARD_E_COMM_DATA_LOST: CKR.DEVICE_ERROR,
  SCARD_W_UNRESPONSIVE_CARD: CKR.DEVICE_ERROR,
  SCARD_E_NOT_TRANSACTED: CKR.DEVICE_ERROR,
  SCARD_E_PROTO_MISMATCH: CKR.DEVICE_ERROR,
  SCARD_E_TIMEOUT: CKR.DEVICE_ERROR,
  SCARD_E_SHARING_VIOLATION: CKR.DEVICE_ERROR,
  SCARD_E_WRITE_TOO_MANY: CKR.DEVICE_MEMORY,
  SCARD_E_NO_KEY_CONTAINER: CKR.KEY_HANDLE_INVALID,
  SCARD_E_NO_SUCH_CERTIFICATE: CKR.OBJECT_HANDLE_INVALID,
  SCARD_E_FILE_NOT_FOUND: CKR.OBJECT_HANDLE_INVALID,
  SCARD_W_WRONG_CHV: CKR.PIN_INCORRECT,
  SCARD_E_INVALID_CHV: CKR.PIN_LEN_RANGE,
  SCARD_W_CHV_BLOCKED: CKR.PIN_LOCKED,
  SCARD_W_CARD_NOT_AUTHENTICATED: CKR.USER_NOT_LOGGED_IN,
  SCARD_W_SECURITY_VIOLATION: CKR.USER_NOT_LOGGED_IN,
  SCARD_E_PIN_CACHE_EXPIRED: CKR.USER_NOT_LOGGED_IN,
  SCARD_E_NO_PIN_CACHE: CKR.USER_NOT_LOGGED_IN,
  SCARD_E_NO_ACCESS: CKR.KEY_FUNCTION_NOT_PERMITTED,
  SCARD_E_READ_ONLY_CARD: CKR.TOKEN_WRITE_PROTECTED,
  SCARD_E_UNEXPECTED: CKR.FUNCTION_FAILED,
};

/** The CK_RV for anything thrown by the layers below (a Pkcs11Error keeps its own). */
export function ckrFromError(error: unknown): number {
  if (error instanceof Pkcs11Error) return error.rv;
  if (!ScardError.isInstance(error)) return CKR.GENERAL_ERROR;
  if (error.name === 'SCARD_W_WRONG_CHV' && error.retriesLeft === 0) return CKR.PIN_LOCKED;
  return SCARD_TO_CKR[error.name] ?? CKR.FUNCTION_FAILED;
}

const NAMES = new Map<number, string>(Object.entries(CKR).map(([name, rv]) => [rv, `CKR_${name}`]));

/** `CKR_PIN_INCORRECT` for 0xa0; hex for values without a name here. */
export function ckrName(rv: number): string {
  return NAMES.get(rv) ?? `CKR_0x${rv.toString(16)}`;
}
