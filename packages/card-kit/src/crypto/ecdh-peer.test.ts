/** The peer key of CardConstructDHAgreement (docs/spec/minidriver.md §5.6.3). */
import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEccPublicKeyBlob } from '../codecs/key-blobs.js';
import { ecdhPeerPoint } from './ecdh-peer.js';

const x = new Uint8Array(32).fill(0x11);
const y = new Uint8Array(32).fill(0x22);

describe('ecdhPeerPoint', () => {
  it('an ECDH public key BLOB of the card key curve: the uncompressed point 04 ‖ X ‖ Y', () => {
    const point = ecdhPeerPoint(encodeEccPublicKeyBlob({ curve: 'P-256', x, y }, 'ecdh'), 'P-256');
    expect(point).toEqual(Uint8Array.of(0x04, ...x, ...y));
  });

  it('an ECDSA key or another curve is SCARD_E_INVALID_PARAMETER', () => {
    const ecdsa = encodeEccPublicKeyBlob({ curve: 'P-256', x, y }, 'ecdsa');
    expect(() => ecdhPeerPoint(ecdsa, 'P-256')).toThrow('the peer key is not an ECDH P-256 public key');
    const p256 = encodeEccPublicKeyBlob({ curve: 'P-256', x, y }, 'ecdh');
    expect(() => ecdhPeerPoint(p256, 'P-384')).toThrow('the peer key is not an ECDH P-384 public key');
  });

  it('any bytes: the point or SCARD_E_INVALID_PARAMETER (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          expect(ecdhPeerPoint(bytes, 'P-256').length).toBe(65);
        } catch (error) {
          expect(error).toBeInstanceOf(ScardError);
          expect((error as ScardError).name).toBe('SCARD_E_INVALID_PARAMETER');
        }
      }),
    );
  });
});
