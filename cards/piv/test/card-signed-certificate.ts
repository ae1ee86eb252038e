/**
 * @module Test support: a self-signed X.509 v3 certificate whose signature is made by a key on the card
 * (through the caller's signer, e.g. CardSession.signData), so a key generated through the plugin gets a
 * certificate that verifies with its own public key — RFC 5280 structure, no extensions.
 */
import type { KeyObject } from 'node:crypto';

function lengthOctets(value: number): number[] {
  if (value < 0x80) return [value];
  if (value < 0x100) return [0x81, value];
  return [0x82, value >>> 8, value & 0xff];
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Uint8Array.from([tag, ...lengthOctets(body.length), ...body]);
}

const sequence = (...parts: Uint8Array[]): Uint8Array => der(0x30, ...parts);
const objectIdentifier = (bytes: number[]): Uint8Array => der(0x06, Uint8Array.from(bytes));

/** A DER INTEGER from an unsigned big-endian magnitude (minimal, with a 00 when the top bit is set). */
function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return der(0x02, (trimmed[0] ?? 0) & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed);
}

/** 1.2.840.113549.1.1.11 with NULL parameters (RFC 4055). */
const SHA256_WITH_RSA = sequence(
  objectIdentifier([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
  Uint8Array.of(0x05, 0x00),
);
/** 1.2.840.10045.4.3.2, parameters absent (RFC 5758). */
const ECDSA_WITH_SHA256 = sequence(objectIdentifier([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
const COMMON_NAME = [0x55, 0x04, 0x03];

function distinguishedName(commonName: string): Uint8Array {
  return sequence(der(0x31, sequence(objectIdentifier(COMMON_NAME), der(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** Signs the TBSCertificate: returns the PKCS#1 v1.5 signature (RSA) or r‖s (ECDSA), both big-endian. */
export type TbsSigner = (tbsCertificate: Uint8Array) => Promise<Uint8Array>;

/**
 * A DER certificate with subject = issuer = CN `commonName` for `subjectKey` (RSA → sha256WithRSAEncryption,
 * EC → ecdsa-with-SHA256), signed by `signTbs`.
 */
export async function makeCardSignedCertificate(
  subjectKey: KeyObject,
  commonName: string,
  signTbs: TbsSigner,
): Promise<Uint8Array> {
  const rsa = subjectKey.asymmetricKeyType === 'rsa';
  const algorithm = rsa ? SHA256_WITH_RSA : ECDSA_WITH_SHA256;
  const name = distinguishedName(commonName);
  const tbs = sequence(
    der(0xa0, der(0x02, Uint8Array.of(2))),
    der(0x02, Uint8Array.of(0x12, 0x34, 0x56, 0x78)),
    algorithm,
    name,
    sequence(der(0x17, Buffer.from('250101000000Z')), der(0x17, Buffer.from('350101000000Z'))),
    name,
    new Uint8Array(subjectKey.export({ type: 'spki', format: 'der' })),
  );
  const rawSignature = await signTbs(tbs);
  // X.509 carries ECDSA as SEQUENCE { r INTEGER, s INTEGER } (RFC 5480), not the card's r‖s.
  const half = rawSignature.length / 2;
  const signature = rsa
    ? rawSignature
    : sequence(unsignedInteger(rawSignature.subarray(0, half)), unsignedInteger(rawSignature.subarray(half)));
  return sequence(tbs, algorithm, der(0x03, Uint8Array.of(0), signature));
}
