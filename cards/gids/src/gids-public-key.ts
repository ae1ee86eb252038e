/**
 * @packageDocumentation
 * The public key template a GIDS card returns (`7F49 { 81 modulus, 82 exponent }` for RSA, `7F49 { 86 point }`
 * for EC; docs/spec/gids.md §4.1). Anything else is SCARD_E_COMM_DATA_LOST.
 */

import { decodeTlv, findTlvValue } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';

/** A decoded public key. */
export type GidsPublicKey =
  | { readonly kind: 'rsa'; readonly modulus: Uint8Array; readonly exponent: Uint8Array }
  | { readonly kind: 'ec'; readonly point: Uint8Array };

/** Decodes the answer to GET DATA of a public key (the `7F49` template, wherever it sits at top level). */
export function decodePublicKeyTemplate(bytes: Uint8Array): GidsPublicKey {
  const nodes = decodeTlv(bytes, { malformedError: 'SCARD_E_COMM_DATA_LOST' });
  const modulus = findTlvValue(nodes, 0x7f49, 0x81);
  const exponent = findTlvValue(nodes, 0x7f49, 0x82);
  if (modulus !== undefined && exponent !== undefined && modulus.length > 0 && exponent.length > 0) {
    return { kind: 'rsa', modulus: stripLeadingZeros(modulus), exponent: stripLeadingZeros(exponent) };
  }
  const point = findTlvValue(nodes, 0x7f49, 0x86);
  if (point !== undefined && point.length > 1 && point.length % 2 === 1 && point[0] === 0x04)
    return { kind: 'ec', point };
  throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card returned no usable public key template');
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.slice(start);
}
