/**
 * Minimal X.509 v3 certificates (RFC 5280) whose signature comes from the caller — typically a
 * card through CardSession.signData, or a node:crypto key in tests. The builder encodes the
 * tbsCertificate, hands it to `sign`, and assembles the certificate around the returned signature.
 *
 * @packageDocumentation
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { ScardError } from '@minidriver/spec';
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

/** The hashes a certificate signature can use. */
export type CertificateHash = 'sha256' | 'sha384' | 'sha512';

/**
 * Signs the DER tbsCertificate with the issuer's key and the chosen hash. Returns, big-endian as X.509
 * carries it: for RSA the PKCS #1 v1.5 signature (a minidriver's little-endian signature reversed); for
 * ECDSA the DER `Ecdsa-Sig-Value` (a card's raw `r ‖ s` through {@link ecdsaRawToDer}).
 */
export type TbsCertificateSigner = (tbsCertificate: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** An extra extension: `value` is the DER encoding that extnValue's OCTET STRING wraps. */
export interface CertificateExtension {
  /** Dotted object identifier. */
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: Uint8Array;
}

/** What a self-signed certificate says and how it is signed. */
export interface SelfSignedCertificateOptions {
  /** The subject's public key (RSA or EC): its SPKI goes in the certificate. */
  readonly publicKey: KeyObject;
  /** Subject (and, self-signed, issuer) common name, 1–64 characters (RFC 5280 ub-common-name). */
  readonly commonName: string;
  /** Positive serial number, 1–20 bytes big-endian (default: 16 random bytes). */
  readonly serialNumber?: Uint8Array;
  /** Default: now, to the second. */
  readonly notBefore?: Date;
  /** Default: 365 days after notBefore. */
  readonly notAfter?: Date;
  readonly sign: TbsCertificateSigner;
  /** Default: sha256. */
  readonly hash?: CertificateHash;
  /**
   * The extensions. Default: basicConstraints (critical, cA false) and keyUsage (critical; RSA
   * digitalSignature + keyEncipherment, EC digitalSignature + keyAgreement). `[]` → none (no [3] field).
   */
  readonly extensions?: readonly CertificateExtension[];
}

/** A certificate issued by another key: the signature algorithm follows the issuer's key. */
export interface CertificateOptions extends SelfSignedCertificateOptions {
  readonly issuer: { readonly commonName: string; readonly publicKey: KeyObject };
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
/** sha{256,384,512}WithRSAEncryption (RFC 4055) and ecdsa-with-SHA{256,384,512} (RFC 5758). */
const SIGNATURE_OIDS: Readonly<Record<'rsa' | 'ec', Readonly<Record<CertificateHash, string>>>> = {
  rsa: { sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13' },
  ec: { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' },
};
const DAY_MILLISECONDS = 86_400_000;

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

function keyKind(key: KeyObject, role: string): 'rsa' | 'ec' {
  if (key?.type !== 'public') invalid(`the ${role} key must be a public KeyObject`);
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'ec') return type;
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `certificates for ${type} keys are not supported`);
}

/** AlgorithmIdentifier: RSA with NULL parameters (RFC 4055), ECDSA with none (RFC 5758). */
function signatureAlgorithm(kind: 'rsa' | 'ec', hash: CertificateHash): Uint8Array {
  const oid = derObjectIdentifier(SIGNATURE_OIDS[kind][hash]);
  return kind === 'rsa' ? derSequence(oid, derNull()) : derSequence(oid);
}

function distinguishedName(commonName: string): Uint8Array {
  if (typeof commonName !== 'string' || commonName.length < 1 || commonName.length > 64)
    invalid('common name must have 1-64 characters');
  return derSequence(derSet(derSequence(derObjectIdentifier(OID_COMMON_NAME), derUtf8String(commonName))));
}

function extension({ oid, critical = false, value }: CertificateExtension): Uint8Array {
  return derSequence(derObjectIdentifier(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
}

/** KeyUsage: RSA digitalSignature + keyEncipherment; EC digitalSignature + keyAgreement (RFC 5280 §4.2.1.3). */
function keyUsage(kind: 'rsa' | 'ec'): Uint8Array {
  // BIT STRING with its unused-bit count: bits 0,2 → A0 (5 unused); bits 0,4 → 88 (3 unused).
  return kind === 'rsa' ? Uint8Array.of(0x03, 0x02, 0x05, 0xa0) : Uint8Array.of(0x03, 0x02, 0x03, 0x88);
}

function serialNumber(given: Uint8Array | undefined): Uint8Array {
  if (given === undefined) {
    const random = new Uint8Array(randomBytes(16));
    random[0] = ((random[0] as number) & 0x7f) | 0x01; // positive and 16 significant bytes
    return random;
  }
  if (!(given instanceof Uint8Array) || given.length < 1 || given.length > 20 || given.every((byte) => byte === 0))
    invalid('serial number must be 1-20 bytes and positive');
  return given;
}

function validity(notBefore: Date | undefined, notAfter: Date | undefined): [Date, Date] {
  const start = notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const end = notAfter ?? new Date(start.getTime() + 365 * DAY_MILLISECONDS);
  if (!(start instanceof Date && end instanceof Date) || !(end.getTime() >= start.getTime()))
    invalid('notAfter must be a date at or after notBefore');
  return [start, end];
}

/**
 * Builds an X.509 v3 certificate for `publicKey`, CN `commonName`, issued by `issuer`: the tbsCertificate
 * is signed by `sign` (the issuer's private key) and the DER certificate returned. The signature
 * algorithm follows the issuer's key type and `hash` (sha256WithRSAEncryption, ecdsa-with-SHA384, …).
 * Bad options → SCARD_E_INVALID_PARAMETER; keys other than RSA/EC → SCARD_E_UNSUPPORTED_FEATURE; what
 * `sign` throws passes through.
 */
export async function createCertificate(options: CertificateOptions): Promise<Uint8Array> {
  const hash = options.hash ?? 'sha256';
  if (!(hash in SIGNATURE_OIDS.rsa)) invalid('hash must be sha256, sha384 or sha512');
  const subjectKind = keyKind(options.publicKey, 'subject');
  const issuerKind = keyKind(options.issuer.publicKey, 'issuer');
  if (typeof options.sign !== 'function') invalid('sign must be a function');
  const algorithm = signatureAlgorithm(issuerKind, hash);
  const [notBefore, notAfter] = validity(options.notBefore, options.notAfter);
  const extensions = options.extensions ?? [
    { oid: OID_BASIC_CONSTRAINTS, critical: true, value: derSequence() },
    { oid: OID_KEY_USAGE, critical: true, value: keyUsage(subjectKind) },
  ];
  const tbsCertificate = derSequence(
    derExplicit(0, derSmallInteger(2)), // v3
    derUnsignedInteger(serialNumber(options.serialNumber)),
    algorithm,
    distinguishedName(options.issuer.commonName),
    derSequence(derTime(notBefore), derTime(notAfter)),
    distinguishedName(options.commonName),
    new Uint8Array(options.publicKey.export({ type: 'spki', format: 'der' })),
    // Extensions ::= SEQUENCE SIZE (1..MAX): with none, the field is left out.
    ...(extensions.length > 0 ? [derExplicit(3, derSequence(...extensions.map(extension)))] : []),
  );
  const signature = await options.sign(tbsCertificate.slice());
  if (!(signature instanceof Uint8Array) || signature.length === 0) invalid('sign returned no signature');
  // A raw r ‖ s would make a certificate nobody can verify: say so here, not at the relying party.
  if (issuerKind === 'ec' && signature[0] !== 0x30)
    invalid('an ECDSA certificate signature must be DER (convert r‖s with ecdsaRawToDer)');
  return derSequence(tbsCertificate, algorithm, derBitString(signature));
}

/**
 * Builds a self-signed X.509 v3 certificate (issuer = subject = CN `commonName`) for `publicKey`, signed
 * by `sign` with the matching private key — on a card, CardSession.signData over the tbsCertificate's
 * hash. By default carries basicConstraints (cA false) and keyUsage; returns the DER. See
 * {@link createCertificate}.
 */
export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): Promise<Uint8Array> {
  return createCertificate({ ...options, issuer: { commonName: options.commonName, publicKey: options.publicKey } });
}
