import {
  CARD_BUFFER_SIZE_ONLY,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_PKCS1,
  CARD_RETURN_KEY_HANDLE,
  CalgHash,
  KeySpec,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import {
  normaliseAgreementInfo,
  normaliseDecryptInfo,
  normaliseDeriveKeyInfo,
  normaliseSigningInfo,
} from './crypto-requests.js';

const hash20 = new Uint8Array(20).fill(1);
const base = {
  version: 1,
  containerIndex: 0,
  keySpec: KeySpec.AT_SIGNATURE,
  signingFlags: 0,
  hashAlgorithmId: CalgHash.CALG_SHA1,
  data: hash20,
};

describe('CARD_SIGNING_INFO normalisation (docs/spec/minidriver.md §9.3)', () => {
  it('basic mode maps aiHashAlg to PKCS #1 with DigestInfo, 0 to none, SSL3_SHAMD5 to the 36 raw bytes', () => {
    expect(normaliseSigningInfo(base).request.padding).toEqual({ type: 'pkcs1', hashAlgorithm: 'SHA1' });
    expect(normaliseSigningInfo({ ...base, version: 0, hashAlgorithmId: 0 }).request.padding).toEqual({
      type: 'pkcs1',
      hashAlgorithm: null,
    });
    const tls = {
      ...base,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      hashAlgorithmId: CalgHash.CALG_SSL3_SHAMD5,
      data: new Uint8Array(36),
    };
    expect(normaliseSigningInfo(tls).request.padding).toEqual({ type: 'pkcs1', hashAlgorithm: 'SHAMD5' });
  });

  it('version 2 with the flag clear is read as basic (lenient reading, docs/spec/minidriver.md §14 item 15)', () => {
    expect(normaliseSigningInfo({ ...base, version: 2 }).request.padding).toEqual({
      type: 'pkcs1',
      hashAlgorithm: 'SHA1',
    });
  });

  it('padding info: PKCS1 with a null algorithm, NONE, and size-only', () => {
    const info = {
      ...base,
      version: 2,
      signingFlags: CARD_PADDING_INFO_PRESENT | CARD_BUFFER_SIZE_ONLY,
      paddingType: CARD_PADDING_PKCS1,
      paddingInfo: { algorithm: null },
    };
    expect(normaliseSigningInfo(info)).toMatchObject({
      sizeOnly: true,
      request: { padding: { type: 'pkcs1', hashAlgorithm: null } },
    });
    expect(normaliseSigningInfo({ ...info, paddingType: CARD_PADDING_NONE }).request.padding).toEqual({ type: 'none' });
  });

  it('ECDSA ignores aiHashAlg and padding', () => {
    const ecdsa = { ...base, keySpec: KeySpec.AT_ECDSA_P256, hashAlgorithmId: 0x1234, data: new Uint8Array(32) };
    expect(normaliseSigningInfo(ecdsa).request.padding).toEqual({ type: 'none' });
  });

  it('tolerates CRYPT_NOHASHOID in the low bits', () => {
    expect(() => normaliseSigningInfo({ ...base, signingFlags: 0x1 })).not.toThrow();
  });
});

describe('CARD_RSA_DECRYPT_INFO normalisation (docs/spec/minidriver.md §9.2)', () => {
  const info = { version: 1, containerIndex: 0, keySpec: KeySpec.AT_KEYEXCHANGE, data: new Uint8Array(128) };
  it('version 1 below CARD_DATA 7 means the raw block', () => {
    for (const negotiated of [4, 5, 6] as const) {
      expect(normaliseDecryptInfo(info, negotiated).padding).toEqual({ type: 'none' });
    }
    expect(() => normaliseDecryptInfo(info, 7)).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(() => normaliseDecryptInfo({ ...info, version: 3 }, 5)).toThrowError(/ERROR_REVISION_MISMATCH/);
  });
});

describe('CARD_DH_AGREEMENT_INFO and CARD_DERIVE_KEY (docs/spec/minidriver.md §5.6.3, §5.6.4)', () => {
  const agreement = { version: 2, containerIndex: 0, publicKey: Uint8Array.of(1, 2) };
  it('agreement version 1 is obsolete with CARD_DATA 7, allowed below; version 3 and flags refused', () => {
    expect(() => normaliseAgreementInfo({ ...agreement, version: 1 }, 7)).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(normaliseAgreementInfo({ ...agreement, version: 1 }, 6)).toEqual({
      containerIndex: 0,
      publicKey: Uint8Array.of(1, 2),
    });
    expect(() => normaliseAgreementInfo({ ...agreement, version: 3 }, 6)).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(() => normaliseAgreementInfo({ ...agreement, flags: 1 }, 7)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('derive: versions 0 (as 1), 1 and 2 accepted, 3 refused; unknown KDF, flags and key handles refused', () => {
    const derive = { version: 1, flags: 0, kdf: 'HASH', agreementIndex: 3 };
    expect(normaliseDeriveKeyInfo(derive)).toMatchObject({
      sizeOnly: false,
      request: { kdf: 'HASH', agreementIndex: 3 },
    });
    expect(normaliseDeriveKeyInfo({ ...derive, flags: CARD_BUFFER_SIZE_ONLY }).sizeOnly).toBe(true);
    // CARD_DERIVE_KEY version 0 counts as 1, like every versioned structure (docs/spec/minidriver.md §1.6).
    expect(normaliseDeriveKeyInfo({ ...derive, version: 0 }).request).toMatchObject({ kdf: 'HASH' });
    expect(() => normaliseDeriveKeyInfo({ ...derive, version: 3 })).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(() => normaliseDeriveKeyInfo({ ...derive, kdf: 'PBKDF2' })).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => normaliseDeriveKeyInfo({ ...derive, flags: 0x10 })).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => normaliseDeriveKeyInfo({ ...derive, version: 2, flags: CARD_RETURN_KEY_HANDLE })).toThrowError(
      /SCARD_E_UNSUPPORTED_FEATURE/,
    );
  });
});
