/**
 * Pure checks of request arguments that several entry points share (docs/spec/minidriver.md §1.5 order:
 * NULLs, flags, versions, before any card I/O): the CARD_AUTHENTICATE_PIN_* mode of the version 4 PIN
 * calls, CardCreateContainer(Ex)'s request, non-empty strings, and a value sized for the caller's buffer.
 *
 * @packageDocumentation
 */
import {
  CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  type CreateContainerRequest,
  isRsaKeySpec,
  ScardError,
} from '@minidriver/spec';
import { checkBytes, checkContainerIndex, checkDword, checkKeySpec, checkSecretPinId } from './parameters.js';

/**
 * ERROR_INSUFFICIENT_BUFFER from {@link CardSession.getPropertyBytes} and
 * {@link CardSession.getContainerPropertyBytes}: the caller's buffer is too small; `requiredSize` is what
 * `*pdwDataLen` would receive.
 */
export class InsufficientBufferError extends ScardError {
  readonly requiredSize: number;
  constructor(requiredSize: number, given: number) {
    super('ERROR_INSUFFICIENT_BUFFER', `the value needs ${requiredSize} bytes; the buffer has ${given}`);
    this.requiredSize = requiredSize;
  }
}

/** dwFlags of CardUnblockPin / CardChangeAuthenticator: 1 challenge/response, 2 PIN, anything else invalid. */
export function authenticationMode(flags: unknown): 'challenge-response' | 'pin' {
  if (flags === CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE) return 'challenge-response';
  if (flags === CARD_AUTHENTICATE_PIN_PIN) return 'pin';
  throw new ScardError(
    'SCARD_E_INVALID_PARAMETER',
    `dwFlags ${String(flags)} is not 1 (challenge/response) or 2 (PIN)`,
  );
}

/**
 * CardCreateContainer(Ex)'s arguments: the index, KEY_GEN (RSA needs a size, ECC 0) or KEY_IMPORT (a key
 * BLOB, copied), the key spec and the PIN that will protect the key.
 */
export function checkCreateContainer(
  index: number,
  flags: number,
  keySpec: number,
  keySize: number,
  keyData: Uint8Array | undefined,
  pinId: number,
): { index: number; request: CreateContainerRequest } {
  const checkedIndex = checkContainerIndex(index);
  if (flags !== CARD_CREATE_CONTAINER_KEY_GEN && flags !== CARD_CREATE_CONTAINER_KEY_IMPORT) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `dwFlags ${String(flags)} is not KEY_GEN (1) or KEY_IMPORT (2)`);
  }
  const spec = checkKeySpec(keySpec);
  const size = checkDword(keySize, 'dwKeySize');
  const protectingPin = checkSecretPinId(pinId);
  if (flags === CARD_CREATE_CONTAINER_KEY_GEN) {
    if (isRsaKeySpec(spec) ? size === 0 : size !== 0) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `dwKeySize ${size} is wrong for key spec ${spec} (ECC needs 0)`,
      );
    }
    return { index: checkedIndex, request: { mode: 'generate', keySpec: spec, keySize: size, pinId: protectingPin } };
  }
  const blob = new Uint8Array(checkBytes(keyData, 'pbKeyData'));
  return {
    index: checkedIndex,
    request: { mode: 'import', keySpec: spec, keySize: 0, keyData: blob, pinId: protectingPin },
  };
}

/** A non-empty string argument, else SCARD_E_INVALID_PARAMETER. */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} is missing`);
  return value;
}

/** A copy of `bytes`, or InsufficientBufferError when the caller's buffer is smaller. */
export function fitBuffer(bytes: Uint8Array, bufferSize: number | undefined): Uint8Array {
  if (bufferSize !== undefined && bufferSize < bytes.length)
    throw new InsufficientBufferError(bytes.length, bufferSize);
  return new Uint8Array(bytes);
}
