/**
 * The peer key of CardConstructDHAgreement (docs/spec/minidriver.md §5.6.3): the caller's
 * BCRYPT_ECCKEY_BLOB checked against the card's key and turned into the uncompressed point a card's
 * ECDH command takes.
 *
 * @packageDocumentation
 */
import { concatBytes, ScardError } from '@minidriver/spec';
import { decodeEccPublicKeyBlob, type EccCurve } from '../codecs/key-blobs.js';

/**
 * The uncompressed point `04 ‖ X ‖ Y` of the peer's public key BLOB `publicKey`. A BLOB that does not decode, is
 * not an ECDH key or is not on `curve` (the card key's curve) is SCARD_E_INVALID_PARAMETER.
 */
export function ecdhPeerPoint(publicKey: Uint8Array, curve: EccCurve): Uint8Array {
  const peer = decodeEccPublicKeyBlob(publicKey);
  if (peer.use !== 'ecdh' || peer.curve !== curve) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `the peer key is not an ECDH ${curve} public key`);
  }
  return concatBytes(Uint8Array.of(0x04), peer.x, peer.y);
}
