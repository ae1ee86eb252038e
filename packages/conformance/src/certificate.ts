/**
 * Certificates the suite writes (docs/spec/minidriver.md §4.3, §4.4, §10 step 16): a real X.509 certificate for a
 * container's public key, signed by a throwaway P-256 issuer, grown to a chosen size by a private
 * non-critical extension — cards may check that a certificate file holds a certificate of the
 * container's key (a PIV card stores it in the slot's certificate object), so junk bytes would not do.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { compressCertificate } from '@minidriver/card-kit';
import { createCertificate, derOctetString } from '@minidriver/core';
import { patternBytes } from './harness.js';

/** 1.3.6.1.4.1.32473.1 (the documentation arc of IANA's example enterprise number): a filler extension. */
const FILLER_EXTENSION = '1.3.6.1.4.1.32473.1';
/** The size of a certificate without the filler, less its SubjectPublicKeyInfo (P-256 issuer, this suite's names). */
const BARE_SIZE_WITHOUT_KEY = 260;

/**
 * A DER certificate for `subjectKey` of about `approximateSize` bytes (at least the size of a bare
 * certificate); `seed` varies serial number and filler so two calls give different certificates.
 */
export function makeCertificate(subjectKey: KeyObject, approximateSize: number, seed: number): Promise<Uint8Array> {
  const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spkiLength = subjectKey.export({ type: 'spki', format: 'der' }).length;
  const filler = patternBytes(Math.max(1, approximateSize - BARE_SIZE_WITHOUT_KEY - spkiLength), seed);
  return createCertificate({
    publicKey: subjectKey,
    commonName: `minidriver conformance ${seed}`,
    issuer: { commonName: 'minidriver conformance issuer', publicKey: issuer.publicKey },
    serialNumber: Uint8Array.of(0x01, (seed >>> 8) & 0x7f, seed & 0xff),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    extensions: [{ oid: FILLER_EXTENSION, value: derOctetString(filler) }],
    sign: (tbsCertificate) => new Uint8Array(sign('sha256', tbsCertificate, issuer.privateKey)),
  });
}

/**
 * What the Base CSP writes into a certificate file (docs/spec/minidriver.md §4.4, §10 step 16): the DER certificate, compressed as
 * `01 00 <len> <zlib>` unless the card reports fCertificateCompression (it compresses itself).
 */
export async function certificateFileContents(
  subjectKey: KeyObject,
  approximateSize: number,
  seed: number,
  cardCompresses: boolean,
): Promise<Uint8Array> {
  const der = await makeCertificate(subjectKey, approximateSize, seed);
  return cardCompresses ? der : compressCertificate(der);
}
