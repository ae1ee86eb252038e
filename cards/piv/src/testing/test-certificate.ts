/**
 * Test support: a real X.509 certificate (DER) for any public key, signed by a throwaway P-256
 * issuer with node:crypto, so tests can write certificates for keys generated on the simulated card
 * (whose private keys the test does not hold, so the certificate cannot be self-signed).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createCertificate } from '@minidriver/core';

/** A DER certificate for `subjectKey`, CN = `commonName`, signed by a fresh issuer key. */
export function makeTestCertificate(subjectKey: KeyObject, commonName = 'PIV test'): Promise<Uint8Array> {
  const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createCertificate({
    publicKey: subjectKey,
    commonName,
    issuer: { commonName: 'PIV test issuer', publicKey: issuer.publicKey },
    serialNumber: Uint8Array.of(0x01, 0x23, 0x45),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    // No extensions: the certificates keep the size the APDU counts of piv-logon-apdus.test.ts rest on.
    extensions: [],
    sign: (tbsCertificate) => new Uint8Array(sign('sha256', tbsCertificate, issuer.privateKey)),
  });
}
