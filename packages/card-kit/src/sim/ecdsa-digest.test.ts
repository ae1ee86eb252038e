import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ECDSA_CURVES, type EcdsaCurveName, ecdsaSignDigest } from './ecdsa-digest.js';

describe('ecdsaSignDigest (FIPS 186-5 docs/spec/minidriver.md §6.4.1)', () => {
  for (const [curve, hash] of [
    ['P-224', 'sha224'],
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
    ['P-521', 'sha512'],
    ['brainpoolP256r1', 'sha256'],
    ['brainpoolP384r1', 'sha384'],
    ['brainpoolP512r1', 'sha512'],
  ] as [EcdsaCurveName, string][]) {
    it(`signs a ${hash} digest with ${curve}; node:crypto verifies the message`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: ECDSA_CURVES[curve].nodeName });
      const message = Buffer.from(`message for ${curve}`);
      const signature = ecdsaSignDigest(privateKey, curve, createHash(hash).update(message).digest());
      expect(signature.length).toBe(2 * ECDSA_CURVES[curve].size);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    });
  }

  it('truncates a digest longer than the order (SHA-512 with P-256)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const message = Buffer.from('long digest');
    const signature = ecdsaSignDigest(privateKey, 'P-256', createHash('sha512').update(message).digest());
    expect(verify('sha512', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });
});
