import { constants, generateKeyPairSync, privateEncrypt, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derObjectIdentifier, derTime, derUnsignedInteger } from './der.js';
import { createSelfSignedCertificate } from './self-signed-certificate.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER encoders', () => {
  it('encode the X.690 examples', () => {
    // X.690 §8.19.5 example: OID 2.100.3 → 06 03 81 34 03.
    expect(hex(derObjectIdentifier('2.100.3'))).toBe('0603813403');
    // sha256WithRSAEncryption, as every RSA certificate carries it (RFC 4055).
    expect(hex(derObjectIdentifier('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    expect(hex(derUnsignedInteger(Uint8Array.of(0x80)))).toBe('02020080');
    expect(hex(derUnsignedInteger(Uint8Array.of(0, 0, 1)))).toBe('020101');
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    expect(
      Buffer.from(derTime(new Date('2049-12-31T23:59:59Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('491231235959Z');
    expect(
      Buffer.from(derTime(new Date('2050-01-01T00:00:00Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('20500101000000Z');
  });

  it('INTEGER round-trips through node:crypto-independent decoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        const encoded = derUnsignedInteger(bytes);
        expect(encoded[0]).toBe(0x02);
        const lengthBytes = (encoded[1] as number) < 0x80 ? 0 : (encoded[1] as number) & 0x7f;
        const content = encoded.subarray(2 + lengthBytes);
        expect(BigInt(`0x${hex(content) || '0'}`)).toBe(BigInt(`0x${hex(bytes)}`));
        expect((content[0] as number) & 0x80).toBe(0);
      }),
    );
  });
});

describe('createSelfSignedCertificate', () => {
  it('builds a certificate node:crypto parses and verifies (RSA; the signer sees the SHA-256 of the TBS)', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2027-01-01T00:00:00Z');
    const hashes: Uint8Array[] = [];
    const certificate = await createSelfSignedCertificate(
      { commonName: 'Test CN', publicKey: pair.publicKey, notBefore, notAfter },
      async (hash) => {
        hashes.push(hash);
        // What a card does for PKCS #1 v1.5: DigestInfo(SHA-256) || hash, type 1 padding, private key.
        const digestInfo = Buffer.concat([
          Buffer.from('3031300d060960864801650304020105000420', 'hex'),
          Buffer.from(hash),
        ]);
        return new Uint8Array(
          privateEncrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo),
        );
      },
    );
    expect(hashes).toHaveLength(1);
    expect(hashes[0]).toHaveLength(32);
    const x509 = new X509Certificate(certificate);
    expect(x509.subject).toBe('CN=Test CN');
    expect(x509.issuer).toBe('CN=Test CN');
    expect(new Date(x509.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(x509.validTo).toISOString()).toBe(notAfter.toISOString());
    expect(x509.ca).toBe(false);
    expect(x509.publicKey.equals(pair.publicKey)).toBe(true);
    expect(x509.verify(pair.publicKey)).toBe(true);
  });

  it('a wrong signature does not verify (the check can fail)', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certificate = await createSelfSignedCertificate(
      { commonName: 'x', publicKey: pair.publicKey, notBefore: new Date(), notAfter: new Date(Date.now() + 1000) },
      async () => new Uint8Array(256).fill(1),
    );
    expect(new X509Certificate(certificate).verify(pair.publicKey)).toBe(false);
  });
});
