/**
 * @module A minimal self-signed X.509 v3 certificate (RFC 5280) whose signature comes from a card: the
 * caller gets the DER tbsCertificate's hash, has the card sign it, and the certificate is assembled.
 */
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
} from './der.js';

const OID_COMMON_NAME = '2.5.4.3';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';

/** What the certificate says. */
export interface CertificateRequest {
  readonly commonName: string;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Serial number bytes (default: 16 random bytes, top bit cleared). */
  readonly serialNumber?: Uint8Array;
}

/**
 * Signs a SHA-256 hash: RSA → PKCS #1 v1.5 signature (big-endian), ECDSA → DER `Ecdsa-Sig-Value`.
 * This is where the card does its work.
 */
export type HashSigner = (sha256: Uint8Array) => Promise<Uint8Array>;

function signatureAlgorithm(publicKey: KeyObject): Uint8Array {
  if (publicKey.asymmetricKeyType === 'rsa') return derSequence(derObjectIdentifier(OID_SHA256_WITH_RSA), derNull());
  if (publicKey.asymmetricKeyType === 'ec') return derSequence(derObjectIdentifier(OID_ECDSA_WITH_SHA256));
  throw new TypeError(`no certificate signature algorithm for a ${publicKey.asymmetricKeyType} key`);
}

function name(commonName: string): Uint8Array {
  return derSequence(derSet(derSequence(derObjectIdentifier(OID_COMMON_NAME), derUtf8String(commonName))));
}

/** Builds the certificate, signs its tbsCertificate with `sign`, and returns the DER. */
export async function createSelfSignedCertificate(request: CertificateRequest, sign: HashSigner): Promise<Uint8Array> {
  const serial = request.serialNumber ?? randomBytes(16);
  if (request.serialNumber === undefined) (serial as Uint8Array)[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const algorithm = signatureAlgorithm(request.publicKey);
  const spki = new Uint8Array(request.publicKey.export({ type: 'spki', format: 'der' }));
  const subject = name(request.commonName);
  const keyUsageBits = request.publicKey.asymmetricKeyType === 'rsa' ? 0xa0 : 0x88; // digitalSignature + keyEncipherment | keyAgreement
  const extensions = derExplicit(
    3,
    derSequence(
      derSequence(derObjectIdentifier(OID_BASIC_CONSTRAINTS), derBoolean(true), derOctetString(derSequence())),
      derSequence(
        derObjectIdentifier(OID_KEY_USAGE),
        derBoolean(true),
        derOctetString(Uint8Array.of(0x03, 0x02, keyUsageBits === 0xa0 ? 0x05 : 0x03, keyUsageBits)),
      ),
    ),
  );
  const tbsCertificate = derSequence(
    derExplicit(0, derSmallInteger(2)),
    derUnsignedInteger(serial),
    algorithm,
    subject,
    derSequence(derTime(request.notBefore), derTime(request.notAfter)),
    subject,
    spki,
    extensions,
  );
  const hash = new Uint8Array(createHash('sha256').update(tbsCertificate).digest());
  const signature = await sign(hash);
  return derSequence(tbsCertificate, algorithm, derBitString(signature));
}
