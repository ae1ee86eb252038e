/**
 * @module Certificates the suite writes (§4.3, §4.4, §10 step 16): a real X.509 certificate for a
 * container's public key, signed by a throwaway P-256 issuer, grown to a chosen size by a private
 * non-critical extension — cards may check that a certificate file holds a certificate of the
 * container's key (a PIV card stores it in the slot's certificate object), so junk bytes would not do.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { compressCertificate } from '@minidriver/core';
import { patternBytes } from './harness.js';

function encodeLength(value: number): number[] {
  if (value < 0x80) return [value];
  if (value < 0x100) return [0x81, value];
  return [0x82, value >>> 8, value & 0xff];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Uint8Array.from([tag, ...encodeLength(body.length), ...body]);
}

const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
const objectId = (bytes: number[]): Uint8Array => tlv(0x06, Uint8Array.from(bytes));
const ECDSA_WITH_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const COMMON_NAME = [0x55, 0x04, 0x03];
/** 1.3.6.1.4.1.32473.1 (the documentation arc of IANA's example enterprise number): a filler extension. */
const FILLER_EXTENSION = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x01];

function distinguishedName(commonName: string): Uint8Array {
  return sequence(tlv(0x31, sequence(objectId(COMMON_NAME), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/**
 * A DER certificate for `subjectKey` of about `approximateSize` bytes (at least the size of a bare
 * certificate); `seed` varies serial number and filler so two calls give different certificates.
 */
export function makeCertificate(subjectKey: KeyObject, approximateSize: number, seed: number): Uint8Array {
  const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const algorithm = sequence(objectId(ECDSA_WITH_SHA256));
  const spki = new Uint8Array(subjectKey.export({ type: 'spki', format: 'der' }));
  const bare = 260 + spki.length;
  const filler = patternBytes(Math.max(1, approximateSize - bare), seed);
  const extensions = tlv(0xa3, sequence(sequence(objectId(FILLER_EXTENSION), tlv(0x04, tlv(0x04, filler)))));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
    tlv(0x02, Uint8Array.of(0x01, (seed >>> 8) & 0x7f, seed & 0xff)),
    algorithm,
    distinguishedName('minidriver conformance issuer'),
    sequence(tlv(0x17, Buffer.from('250101000000Z')), tlv(0x17, Buffer.from('350101000000Z'))),
    distinguishedName(`minidriver conformance ${seed}`),
    spki,
    extensions,
  );
  return sequence(tbs, algorithm, tlv(0x03, Uint8Array.of(0), sign('sha256', tbs, issuer)));
}

/**
 * What the Base CSP writes into a certificate file (§4.4, §10 step 16): the DER certificate, compressed as
 * `01 00 <len> <zlib>` unless the card reports fCertificateCompression (it compresses itself).
 */
export function certificateFileContents(
  subjectKey: KeyObject,
  approximateSize: number,
  seed: number,
  cardCompresses: boolean,
): Uint8Array {
  const der = makeCertificate(subjectKey, approximateSize, seed);
  return cardCompresses ? der : compressCertificate(der);
}
