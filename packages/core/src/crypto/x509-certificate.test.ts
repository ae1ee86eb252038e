import {
  constants,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  sign,
  X509Certificate,
} from 'node:crypto';
import { DIGEST_INFO_PREFIX } from '@minidriver/card-kit';
import { ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derLength, derObjectIdentifier, derOctetString, derTime, derUnsignedInteger } from './der.js';
import { toPem } from './pem.js';
import { type CertificateHash, createCertificate, createSelfSignedCertificate } from './x509-certificate.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const ascii = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** A node:crypto signer in the form the builder wants (RSA PKCS #1 v1.5; ECDSA DER, node's default). */
const signerFor =
  (privateKey: KeyObject, hash: CertificateHash = 'sha256') =>
  (tbs: Uint8Array) =>
    new Uint8Array(sign(hash, tbs, privateKey));

describe('DER writer', () => {
  it('encodes the X.690 and RFC examples byte for byte', () => {
    // X.690 docs/spec/minidriver.md §8.19.5 example: OID 2.100.3 → 06 03 81 34 03.
    expect(toHex(derObjectIdentifier('2.100.3'))).toBe('0603813403');
    // sha256WithRSAEncryption as every RSA certificate carries it (RFC 4055).
    expect(toHex(derObjectIdentifier('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    // ecdsa-with-SHA256 (RFC 5758).
    expect(toHex(derObjectIdentifier('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(toHex(derUnsignedInteger(Uint8Array.of(0x80)))).toBe('02020080');
    expect(toHex(derUnsignedInteger(Uint8Array.of(0, 0, 1)))).toBe('020101');
    expect(toHex(derUnsignedInteger(Uint8Array.of(0, 0)))).toBe('020100');
    // X.690 docs/spec/minidriver.md §8.1.3: short form below 128, minimal long form above.
    expect(toHex(derLength(0x7f))).toBe('7f');
    expect(toHex(derLength(0x80))).toBe('8180');
    expect(toHex(derLength(0x1234))).toBe('821234');
    expect(toHex(derLength(0x10000))).toBe('83010000');
    expect(toHex(derOctetString(new Uint8Array(200)).subarray(0, 3))).toBe('0481c8');
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    const late = derTime(new Date('2049-12-31T23:59:59.999Z'));
    expect(late[0]).toBe(0x17);
    expect(ascii(late.subarray(2))).toBe('491231235959Z');
    const early = derTime(new Date('2050-01-01T00:00:00Z'));
    expect(early[0]).toBe(0x18);
    expect(ascii(early.subarray(2))).toBe('20500101000000Z');
    expect(ascii(derTime(new Date('1949-06-01T12:00:00Z')).subarray(2))).toBe('19490601120000Z');
  });

  it('INTEGER keeps the value of any unsigned magnitude and is never negative', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        const encoded = derUnsignedInteger(bytes);
        expect(encoded[0]).toBe(0x02);
        const lengthOctets = (encoded[1] as number) < 0x80 ? 0 : (encoded[1] as number) & 0x7f;
        const content = encoded.subarray(2 + lengthOctets);
        expect(BigInt(`0x${toHex(content)}`)).toBe(BigInt(`0x${toHex(bytes)}`));
        expect((content[0] as number) & 0x80).toBe(0);
      }),
    );
  });

  it('OBJECT IDENTIFIER arcs round-trip through node (an extension with a random OID parses)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 6 }), (rest) => {
        const dotted = `1.3.${rest.join('.')}`;
        const encoded = derObjectIdentifier(dotted);
        // Decode the base-128 subidentifiers back (X.690 docs/spec/minidriver.md §8.19) and compare.
        const arcs: number[] = [];
        let value = 0;
        for (const octet of encoded.subarray(2)) {
          value = value * 128 + (octet & 0x7f);
          if (!(octet & 0x80)) {
            arcs.push(value);
            value = 0;
          }
        }
        expect([1, (arcs[0] as number) - 40, ...arcs.slice(1)].join('.')).toBe(dotted);
      }),
    );
    for (const bad of ['', '1', '3.1', '1.40', '1.2.x', '1..2'])
      expect(() => derObjectIdentifier(bad)).toThrow(ScardError);
  });
});

describe('createSelfSignedCertificate', () => {
  it('RSA 2048: node parses it, subject = issuer = CN, validity as given, verifies with the public key', async () => {
    const tbsSeen: Uint8Array[] = [];
    const certificate = await createSelfSignedCertificate({
      publicKey: rsa.publicKey,
      commonName: 'Test CN',
      serialNumber: Uint8Array.of(0x12, 0x34, 0x56, 0x78),
      notBefore,
      notAfter,
      sign: async (tbs) => {
        tbsSeen.push(tbs);
        // What a card does for PKCS #1 v1.5: DigestInfo(SHA-256) ‖ hash, type 1 padding, private key.
        const digest = createHash('sha256').update(tbs).digest();
        const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX.SHA256, digest]);
        return new Uint8Array(
          privateEncrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo),
        );
      },
    });
    expect(tbsSeen).toHaveLength(1);
    const x509 = new X509Certificate(certificate);
    expect(x509.subject).toBe('CN=Test CN');
    expect(x509.issuer).toBe('CN=Test CN');
    expect(x509.serialNumber).toBe('12345678');
    expect(new Date(x509.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(x509.validTo).toISOString()).toBe(notAfter.toISOString());
    expect(x509.ca).toBe(false);
    // basicConstraints critical {} (cA FALSE) and keyUsage critical digitalSignature + keyEncipherment (RFC 5280 §4.2.1).
    expect(toHex(certificate)).toContain('300c0603551d130101ff04023000300e0603551d0f0101ff0404030205a0');
    expect(x509.publicKey.equals(rsa.publicKey)).toBe(true);
    expect(x509.verify(rsa.publicKey)).toBe(true);
    // The TBS the signer saw is the one in the certificate (right after the outer SEQUENCE header).
    const tbs = tbsSeen[0] as Uint8Array;
    expect(toHex(certificate.subarray(4, 4 + tbs.length))).toBe(toHex(tbs));
    // sha256WithRSAEncryption with NULL parameters after the TBS.
    expect(toHex(certificate.subarray(4 + tbs.length, 4 + tbs.length + 15))).toBe('300d06092a864886f70d01010b0500');
  });

  for (const [label, pair, hash, oid] of [
    ['P-256, SHA-256', p256, 'sha256', '06082a8648ce3d040302'],
    ['P-384, SHA-384', p384, 'sha384', '06082a8648ce3d040303'],
    ['P-384, SHA-512', p384, 'sha512', '06082a8648ce3d040304'],
  ] as const) {
    it(`ECDSA ${label}: ecdsa-with-SHA* without parameters, verifies with the public key`, async () => {
      const certificate = await createSelfSignedCertificate({
        publicKey: pair.publicKey,
        commonName: 'ecdsa',
        hash,
        notBefore,
        notAfter,
        sign: signerFor(pair.privateKey, hash),
      });
      const x509 = new X509Certificate(certificate);
      expect(x509.subject).toBe('CN=ecdsa');
      // keyUsage critical digitalSignature + keyAgreement.
      expect(toHex(certificate)).toContain('0603551d0f0101ff040403020388');
      expect(x509.verify(pair.publicKey)).toBe(true);
      expect(toHex(certificate)).toContain(`300a${oid}03`);
    });
  }

  it('RSA with SHA-384 and SHA-512 picks sha384/sha512WithRSAEncryption', async () => {
    for (const [hash, last] of [
      ['sha384', '0c'],
      ['sha512', '0d'],
    ] as const) {
      const certificate = await createSelfSignedCertificate({
        publicKey: rsa.publicKey,
        commonName: hash,
        hash,
        sign: signerFor(rsa.privateKey, hash),
      });
      expect(new X509Certificate(certificate).verify(rsa.publicKey)).toBe(true);
      expect(toHex(certificate)).toContain(`06092a864886f70d0101${last}0500`);
    }
  });

  it('defaults: random positive 16-byte serial, validity from now (to the second) for 365 days', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const make = () =>
      createSelfSignedCertificate({ publicKey: p256.publicKey, commonName: 'd', sign: signerFor(p256.privateKey) });
    const [first, second] = [new X509Certificate(await make()), new X509Certificate(await make())];
    expect(first.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(first.serialNumber).not.toBe(second.serialNumber);
    const from = new Date(first.validFrom).getTime();
    expect(from).toBeGreaterThanOrEqual(before);
    expect(new Date(first.validTo).getTime() - from).toBe(365 * 86_400_000);
  });

  it('a wrong signature does not verify (the check can fail)', async () => {
    const certificate = await createSelfSignedCertificate({
      publicKey: rsa.publicKey,
      commonName: 'x',
      sign: () => new Uint8Array(256).fill(1),
    });
    expect(new X509Certificate(certificate).verify(rsa.publicKey)).toBe(false);
  });

  it('times after 2049 are GeneralizedTime and node reads them', async () => {
    const certificate = await createSelfSignedCertificate({
      publicKey: p256.publicKey,
      commonName: 'long',
      notBefore,
      notAfter: new Date('2060-06-30T12:00:00Z'),
      sign: signerFor(p256.privateKey),
    });
    expect(new Date(new X509Certificate(certificate).validTo).toISOString()).toBe('2060-06-30T12:00:00.000Z');
  });

  it('rejects bad options with SCARD_E_INVALID_PARAMETER, other key types with SCARD_E_UNSUPPORTED_FEATURE', async () => {
    const sign = signerFor(p256.privateKey);
    const base = { publicKey: p256.publicKey, commonName: 'x', sign };
    const code = async (options: Parameters<typeof createSelfSignedCertificate>[0]) =>
      createSelfSignedCertificate(options).then(
        () => 'resolved',
        (error: unknown) => (ScardError.isInstance(error) ? error.name : String(error)),
      );
    expect(await code({ ...base, commonName: '' })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, commonName: 'x'.repeat(65) })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, serialNumber: Uint8Array.of(0, 0) })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, serialNumber: new Uint8Array(21).fill(1) })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, notBefore: notAfter, notAfter: notBefore })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, notBefore: new Date(Number.NaN) })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, hash: 'md5' as CertificateHash })).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code({ ...base, publicKey: p256.privateKey })).toBe('SCARD_E_INVALID_PARAMETER');
    // An ECDSA signature left as raw r ‖ s.
    expect(await code({ ...base, sign: () => new Uint8Array(64).fill(0x5a) })).toBe('SCARD_E_INVALID_PARAMETER');
    const ed25519 = generateKeyPairSync('ed25519');
    expect(await code({ ...base, publicKey: ed25519.publicKey })).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    // What the signer throws (a card error) passes through.
    const cardError = new ScardError('SCARD_W_CARD_NOT_AUTHENTICATED', 'no PIN');
    await expect(
      createSelfSignedCertificate({
        ...base,
        sign: () => {
          throw cardError;
        },
      }),
    ).rejects.toBe(cardError);
  });
});

describe('createCertificate', () => {
  it('issued by another key: issuer name and signature algorithm follow the issuer; extensions are added', async () => {
    const filler = new Uint8Array(1000).fill(0xa5);
    const certificate = await createCertificate({
      publicKey: rsa.publicKey,
      commonName: 'subject',
      issuer: { commonName: 'issuer', publicKey: p256.publicKey },
      sign: signerFor(p256.privateKey),
      extensions: [{ oid: '1.3.6.1.4.1.32473.1', value: derOctetString(filler) }],
    });
    const x509 = new X509Certificate(certificate);
    expect(x509.subject).toBe('CN=subject');
    expect(x509.issuer).toBe('CN=issuer');
    expect(x509.publicKey.equals(rsa.publicKey)).toBe(true);
    expect(x509.verify(p256.publicKey)).toBe(true);
    expect(x509.verify(rsa.publicKey)).toBe(false);
    expect(toHex(certificate)).toContain(`06082a8648ce3d040302`);
    // Extension: OID, no critical flag (DER omits the default FALSE), OCTET STRING { OCTET STRING filler }.
    expect(toHex(certificate)).toContain(`06092b0601040181fd5901048203ec048203e8${'a5'.repeat(4)}`);
    expect(certificate.length).toBeGreaterThan(1000);
    // Given extensions replace the defaults.
    expect(toHex(certificate)).not.toContain('0603551d0f');
  });

  it('extensions: [] leaves the [3] field out (RFC 5280: Extensions has at least one element)', async () => {
    const certificate = await createCertificate({
      publicKey: p256.publicKey,
      commonName: 'bare',
      issuer: { commonName: 'issuer', publicKey: p256.publicKey },
      notBefore,
      notAfter,
      sign: signerFor(p256.privateKey),
      extensions: [],
    });
    const x509 = new X509Certificate(certificate);
    expect(x509.verify(p256.publicKey)).toBe(true);
    // tbsCertificate ends with the SubjectPublicKeyInfo: no a3 after it.
    const spki = toHex(p256.publicKey.export({ type: 'spki', format: 'der' }));
    expect(toHex(certificate)).toContain(`${spki}300a06082a8648ce3d040302`);
  });
});

describe('toPem', () => {
  it('wraps base64 in 64-character lines (RFC 7468) that node reads back', async () => {
    const der = await createSelfSignedCertificate({
      publicKey: rsa.publicKey,
      commonName: 'pem',
      sign: signerFor(rsa.privateKey),
    });
    const pem = toPem(der, 'CERTIFICATE');
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -3).every((line) => line.length === 64)).toBe(true);
    expect(new X509Certificate(pem).raw.equals(Buffer.from(der))).toBe(true);
    expect(toPem(Uint8Array.of(1, 2, 3), 'PUBLIC KEY')).toBe(
      '-----BEGIN PUBLIC KEY-----\nAQID\n-----END PUBLIC KEY-----\n',
    );
    expect(() => toPem(der, 'BAD\nLABEL')).toThrow(ScardError);
  });
});
