/**
 * Checks of what a card answers to a private-key operation. An answer that does not parse is the card's
 * fault, SCARD_E_UNEXPECTED — never the caller's SCARD_E_INVALID_PARAMETER (docs/spec/minidriver.md §1.5,
 * error conventions).
 *
 * @packageDocumentation
 */
import { leftPad, ScardError } from '@minidriver/spec';
import { ecdsaDerToRaw } from './ecdsa.js';

/** A card's RSA answer (signature or decrypted block) left-padded to `modulusBytes`; longer → SCARD_E_UNEXPECTED. */
export function cardRsaBlock(answer: Uint8Array, modulusBytes: number, what = 'RSA answer'): Uint8Array {
  try {
    return leftPad(answer, modulusBytes);
  } catch (error) {
    throw new ScardError('SCARD_E_UNEXPECTED', `the card returned a ${what} longer than the modulus`, { cause: error });
  }
}

/** The `r ‖ s` of a DER ECDSA signature a card returned; malformed → SCARD_E_UNEXPECTED. */
export function cardEcdsaDerSignature(der: Uint8Array, coordinateBytes: number): Uint8Array {
  try {
    return ecdsaDerToRaw(der, coordinateBytes);
  } catch (error) {
    throw new ScardError('SCARD_E_UNEXPECTED', 'the card returned a malformed ECDSA signature', { cause: error });
  }
}

/** A raw `r ‖ s` ECDSA signature a card returned, checked for its length; wrong → SCARD_E_UNEXPECTED. */
export function cardEcdsaRawSignature(raw: Uint8Array, coordinateBytes: number): Uint8Array {
  if (raw.length !== 2 * coordinateBytes) {
    throw new ScardError(
      'SCARD_E_UNEXPECTED',
      `the card returned a ${raw.length}-byte ECDSA signature, not ${2 * coordinateBytes}`,
    );
  }
  return raw;
}
