import { type DeriveKeyRequest, KdfBufferType } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { encodeWideString } from '../codecs/wide-string.js';
import { deriveKeyFromSecret } from '../crypto/kdf.js';
import { DhAgreements } from './dh-agreements.js';

const kdfRequest = (agreementIndex: number): DeriveKeyRequest => ({
  agreementIndex,
  kdf: 'HASH',
  parameters: [{ type: KdfBufferType.KDF_HASH_ALGORITHM, value: encodeWideString('SHA256') }],
  flags: 0,
});

describe('DhAgreements', () => {
  it('hands out the lowest free index and reuses destroyed ones; the 257th is SCARD_E_NO_MEMORY and wiped', () => {
    const agreements = new DhAgreements();
    expect(agreements.add(Uint8Array.of(1))).toBe(0);
    expect(agreements.add(Uint8Array.of(2))).toBe(1);
    agreements.destroy(0);
    expect(agreements.add(Uint8Array.of(3))).toBe(0);
    for (let index = 2; index < 256; index++) agreements.add(Uint8Array.of(index));
    const extra = Uint8Array.of(9, 9);
    expect(() => agreements.add(extra)).toThrow('SCARD_E_NO_MEMORY');
    expect(extra).toEqual(new Uint8Array(2));
  });

  it('derives with the CardDeriveKey KDFs from the agreement secret', () => {
    const agreements = new DhAgreements();
    const secret = Uint8Array.of(7, 7, 7, 7);
    const index = agreements.add(secret);
    expect(agreements.derive(kdfRequest(index))).toEqual(
      deriveKeyFromSecret(Uint8Array.of(7, 7, 7, 7), kdfRequest(index)),
    );
    expect(agreements.derive(kdfRequest(index)).length).toBe(32);
  });

  it('wipe policy: destroy and clear zero the secrets; a missing agreement is SCARD_E_INVALID_PARAMETER', () => {
    const agreements = new DhAgreements();
    const first = Uint8Array.of(1, 2, 3);
    const second = Uint8Array.of(4, 5, 6);
    agreements.add(first);
    agreements.add(second);
    agreements.destroy(0);
    expect(first).toEqual(new Uint8Array(3));
    expect(() => agreements.destroy(0)).toThrow('SCARD_E_INVALID_PARAMETER');
    agreements.clear();
    expect(second).toEqual(new Uint8Array(3));
    expect(agreements.size).toBe(0);
    expect(() => agreements.derive(kdfRequest(1))).toThrow('SCARD_E_INVALID_PARAMETER');
  });
});
