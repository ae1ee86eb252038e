/**
 * @packageDocumentation
 * PKCS #10 certification requests (RFC 2986) signed by a card's key: the subject from a string like
 * `CN=Alice,O=Example,C=FR`, the container's public key, and the signature over the
 * CertificationRequestInfo (sha256WithRSAEncryption or ecdsa-with-SHA256).
 */

import type { KeyObject } from 'node:crypto';
import {
  derBitString,
  derElement,
  derExplicit,
  derNull,
  derObjectIdentifier,
  derSequence,
  derSet,
  derSmallInteger,
  derUtf8String,
} from '@minidriver/core';
import { UsageError } from '../parse/usage-error.js';

/** Attribute types a subject may name (RFC 4519 short names). */
const NAME_OIDS: Readonly<Record<string, string>> = {
  CN: '2.5.4.3',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
};

/** The DER Name of `CN=Alice,O=Example`: one RDN per attribute, in the order given. */
export function encodeDistinguishedName(subject: string): Uint8Array {
  const parts = subject
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0 || subject.length > 1024 || subject.includes('\\') || subject.includes('+')) {
    throw new UsageError('--subject must be like "CN=Alice,O=Example,C=FR" (no escapes, no multi-valued RDNs)');
  }
  const rdns = parts.map((part) => {
    const equals = part.indexOf('=');
    const type = part.slice(0, equals).trim().toUpperCase();
    const value = part.slice(equals + 1).trim();
    const oid = NAME_OIDS[type];
    if (equals < 1 || oid === undefined || value === '' || value.length > 256) {
      throw new UsageError(
        `--subject: "${type || part}" is not one of ${Object.keys(NAME_OIDS).join(', ')} with a value`,
      );
    }
    const ascii = /^[\x20-\x7e]*$/.test(value);
    if (type === 'C' && !/^[A-Z]{2}$/.test(value)) throw new UsageError('--subject: C must be two capital letters');
    // PrintableString for the country, IA5String for e-mail, UTF8String otherwise.
    const encoded =
      type === 'C'
        ? derElement(0x13, new TextEncoder().encode(value))
        : type === 'EMAILADDRESS' && ascii
          ? derElement(0x16, new TextEncoder().encode(value))
          : derUtf8String(value);
    return derSet(derSequence(derObjectIdentifier(oid), encoded));
  });
  return derSequence(...rdns);
}

/**
 * A PKCS #10 request for `publicKey` with subject `subject`, signed by `sign` (which returns the DER
 * signature value of SHA-256 over its input for `kind`).
 */
export async function createCertificationRequest(options: {
  readonly subject: string;
  readonly publicKey: KeyObject;
  readonly sign: (info: Uint8Array) => Promise<Uint8Array>;
}): Promise<Uint8Array> {
  const kind = options.publicKey.asymmetricKeyType;
  if (kind !== 'rsa' && kind !== 'ec') throw new UsageError('only RSA and EC keys make certification requests');
  const info = derSequence(
    derSmallInteger(0),
    encodeDistinguishedName(options.subject),
    new Uint8Array(options.publicKey.export({ type: 'spki', format: 'der' })),
    derExplicit(0),
  );
  // [0] attributes is IMPLICIT SET OF: A0 00 when empty (derExplicit(0) with no content is exactly that).
  const algorithm =
    kind === 'rsa'
      ? derSequence(derObjectIdentifier('1.2.840.113549.1.1.11'), derNull())
      : derSequence(derObjectIdentifier('1.2.840.10045.4.3.2'));
  const signature = await options.sign(info);
  return derSequence(info, algorithm, derBitString(signature));
}
