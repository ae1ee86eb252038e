/**
 * Codecs of the OpenPGP card's data objects (docs/spec/openpgp.md §1, §3, §4.7): the AID, the application
 * related data `6E`, algorithm attributes `C1`-`C3`, PW status bytes `C4`, the public key template `7F49`,
 * and the OpenPGP v4 fingerprint the host computes after key generation. Decoders of card data throw
 * SCARD_E_COMM_DATA_LOST for malformed input, never anything else.
 */
import { createHash } from 'node:crypto';
import type { EccCurve } from '@minidriver/card-kit';
import { decodeTlv, encodeLength, encodeTlv, findTlv, findTlvValue, type TlvNode, tagBytes } from '@minidriver/iso7816';
import { concatBytes, ScardError } from '@minidriver/spec';
import type { KeySlot } from './openpgp-commands.js';

const MALFORMED = { malformedError: 'SCARD_E_COMM_DATA_LOST' } as const;

function corrupt(message: string): never {
  throw new ScardError('SCARD_E_COMM_DATA_LOST', `OpenPGP card data: ${message}`);
}

/** The fields of the 16-byte AID (docs/spec/openpgp.md §1). */
export interface OpenPgpAid {
  /** The whole AID (a copy). */
  readonly bytes: Uint8Array;
  /** Specification version, e.g. 3.4 as [3, 4] (BCD-like digits read as bytes). */
  readonly version: readonly [number, number];
  /** Manufacturer id, AID bytes 8-9. */
  readonly manufacturer: number;
  /** Manufacturer id ‖ serial number, AID bytes 8-13: the card serial GnuPG and OpenSC use. */
  readonly serial: Uint8Array;
}

/** Parses a 16-byte OpenPGP AID. */
export function decodeAid(aid: Uint8Array): OpenPgpAid {
  if (aid.length !== 16 || aid[0] !== 0xd2 || aid[1] !== 0x76 || aid[4] !== 0x24 || aid[5] !== 0x01) {
    corrupt('the AID is not a 16-byte OpenPGP AID');
  }
  return {
    bytes: aid.slice(),
    version: [aid[6] ?? 0, aid[7] ?? 0],
    manufacturer: ((aid[8] ?? 0) << 8) | (aid[9] ?? 0),
    serial: aid.slice(8, 14),
  };
}

/**
 * The 16-byte card identifier (cardid, CP_CARD_GUID): the AID with its version bytes (6-7) zeroed. It is
 * unique per card (RID, application, manufacturer and serial) and, unlike the raw AID, stable across a
 * firmware update that changes the specification version the card reports.
 */
export function cardIdFromAid(aid: OpenPgpAid): Uint8Array {
  const id = aid.bytes.slice();
  id[6] = 0;
  id[7] = 0;
  return id;
}

/** NIST curves the minidriver model can express, by their OpenPGP OIDs (docs/spec/openpgp.md §3.5). */
const CURVE_OIDS: ReadonlyArray<readonly [EccCurve, string]> = [
  ['P-256', '2a8648ce3d030107'],
  ['P-384', '2b81040022'],
  ['P-521', '2b81040023'],
];

/** OpenPGP public-key algorithm ids (RFC 4880 §9.1) as they appear in algorithm attributes. */
export const OpenPgpAlgorithmId = { rsa: 0x01, ecdh: 0x12, ecdsa: 0x13, eddsa: 0x16 } as const;

/** Algorithm attributes of a key slot. `other` covers what the minidriver cannot expose (brainpool, 25519). */
export type KeyAlgorithm =
  | { readonly kind: 'rsa'; readonly modulusBits: number; readonly exponentBits: number; readonly importFormat: number }
  | { readonly kind: 'ecc'; readonly algorithmId: number; readonly curve: EccCurve; readonly oid: Uint8Array }
  | { readonly kind: 'other'; readonly attributes: Uint8Array };

/** The OID content bytes of a NIST curve. */
export function curveOid(curve: EccCurve): Uint8Array {
  const entry = CURVE_OIDS.find(([name]) => name === curve);
  return Uint8Array.from(Buffer.from(entry?.[1] ?? '', 'hex'));
}

/** Parses C1/C2/C3. Unknown algorithms and curves are `other`, not errors: the card may hold anything. */
export function decodeAlgorithmAttributes(attributes: Uint8Array): KeyAlgorithm {
  const algorithmId = attributes[0];
  if (algorithmId === OpenPgpAlgorithmId.rsa && attributes.length >= 5) {
    return {
      kind: 'rsa',
      modulusBits: ((attributes[1] ?? 0) << 8) | (attributes[2] ?? 0),
      exponentBits: ((attributes[3] ?? 0) << 8) | (attributes[4] ?? 0),
      importFormat: attributes[5] ?? 0,
    };
  }
  if (algorithmId === OpenPgpAlgorithmId.ecdh || algorithmId === OpenPgpAlgorithmId.ecdsa) {
    const hex = Buffer.from(attributes.subarray(1)).toString('hex');
    // A trailing 00 or FF is the import format byte (docs/spec/openpgp.md §3.5).
    const match = CURVE_OIDS.find(([, oid]) => hex === oid || hex === `${oid}ff` || hex === `${oid}00`);
    if (match) return { kind: 'ecc', algorithmId, curve: match[0], oid: curveOid(match[0]) };
  }
  return { kind: 'other', attributes: attributes.slice() };
}

/** C1/C2/C3 bytes: RSA `01 | n bits | e bits (32) | 00`, ECC `alg | OID`. */
export function encodeAlgorithmAttributes(algorithm: Exclude<KeyAlgorithm, { kind: 'other' }>): Uint8Array {
  if (algorithm.kind === 'rsa') {
    const { modulusBits, exponentBits, importFormat } = algorithm;
    return Uint8Array.of(
      0x01,
      modulusBits >> 8,
      modulusBits & 0xff,
      exponentBits >> 8,
      exponentBits & 0xff,
      importFormat,
    );
  }
  return concatBytes(Uint8Array.of(algorithm.algorithmId), curveOid(algorithm.curve));
}

/** True when two algorithm attributes name the same key type (RSA size, or algorithm and curve). */
export function sameKeyType(left: KeyAlgorithm, right: KeyAlgorithm): boolean {
  if (left.kind === 'rsa' && right.kind === 'rsa') return left.modulusBits === right.modulusBits;
  if (left.kind === 'ecc' && right.kind === 'ecc')
    return left.algorithmId === right.algorithmId && left.curve === right.curve;
  return false;
}

/** PW status bytes C4 (docs/spec/openpgp.md §3.4). */
export interface PasswordStatus {
  /** C4 byte 1 = 00: PW1 (81) is valid for one signature only. */
  readonly signaturePinOncePerSignature: boolean;
  readonly maxLengthPw1: number;
  readonly maxLengthResetCode: number;
  readonly maxLengthPw3: number;
  readonly retriesPw1: number;
  /** 0 also when no Resetting Code is set. */
  readonly retriesResetCode: number;
  readonly retriesPw3: number;
}

/** Parses C4 (7 bytes). */
export function decodePasswordStatus(value: Uint8Array): PasswordStatus {
  if (value.length < 7) corrupt('PW status bytes (C4) are shorter than 7 bytes');
  return {
    signaturePinOncePerSignature: value[0] === 0x00,
    maxLengthPw1: (value[1] ?? 0) & 0x7f,
    maxLengthResetCode: value[2] ?? 0,
    maxLengthPw3: value[3] ?? 0,
    retriesPw1: value[4] ?? 0,
    retriesResetCode: value[5] ?? 0,
    retriesPw3: value[6] ?? 0,
  };
}

/** Key status from DE (v3.3+): 00 absent, 01 generated, 02 imported. */
export const KeyStatus = { absent: 0, generated: 1, imported: 2 } as const;

/** What the minidriver needs from the application related data `6E`. */
export interface ApplicationData {
  readonly aid: OpenPgpAid;
  /** C0 (extended capabilities), raw. */
  readonly extendedCapabilities: Uint8Array;
  /** C1, C2, C3. */
  readonly algorithms: readonly [KeyAlgorithm, KeyAlgorithm, KeyAlgorithm];
  readonly passwordStatus: PasswordStatus;
  /** C5 split into SIG, DEC, AUT fingerprints (20 bytes each). */
  readonly fingerprints: readonly [Uint8Array, Uint8Array, Uint8Array];
  /** DE key status per slot, when the card has DE (v3.3+). */
  readonly keyStatus?: readonly [number, number, number];
  /**
   * The largest response data of one APDU from the extended length information 7F66 (v3), when the card
   * announces extended length; absent = short Le only.
   */
  readonly maxResponseLength?: number;
}

/** The maximum response length of 7F66 (two INTEGERs: command, response), or undefined when unusable. */
function maxResponseLengthOf(information: Uint8Array | undefined): number | undefined {
  if (information === undefined) return undefined;
  try {
    const integers = decodeTlv(information, MALFORMED).filter((node) => node.tag === 0x02);
    const response = integers[1]?.value;
    if (response === undefined || response.length === 0 || response.length > 2) return undefined;
    const length = response.reduce((value, byte) => (value << 8) | byte, 0);
    return length > 256 ? length : undefined;
  } catch {
    return undefined;
  }
}

function optionalMaxResponseLength(length: number | undefined): { maxResponseLength?: number } {
  return length === undefined ? {} : { maxResponseLength: length };
}

/** Finds a DO inside 6E: v3 cards nest C0-CD in 73, v2 cards put them directly in 6E. */
function findDiscretionary(nodes: readonly TlvNode[], tag: number): Uint8Array | undefined {
  return findTlvValue(nodes, 0x6e, 0x73, tag) ?? findTlvValue(nodes, 0x6e, tag);
}

/** Parses the answer to GET DATA 6E (with its own 6E tag, docs/spec/openpgp.md §3.2). */
export function decodeApplicationData(bytes: Uint8Array): ApplicationData {
  const nodes = decodeTlv(bytes, MALFORMED);
  if (!findTlv(nodes, 0x6e)) corrupt('application related data (6E) is missing');
  const aid = findTlvValue(nodes, 0x6e, 0x4f) ?? corrupt('the AID (4F) is missing from 6E');
  const attribute = (tag: number) =>
    decodeAlgorithmAttributes(
      findDiscretionary(nodes, tag) ?? corrupt(`algorithm attributes ${tag.toString(16)} missing`),
    );
  const fingerprints = findDiscretionary(nodes, 0xc5) ?? corrupt('fingerprints (C5) are missing');
  if (fingerprints.length < 60) corrupt('fingerprints (C5) are shorter than 60 bytes');
  const keyInformation = findDiscretionary(nodes, 0xde);
  let keyStatus: [number, number, number] | undefined;
  if (keyInformation !== undefined) {
    keyStatus = [0, 0, 0];
    for (let offset = 0; offset + 1 < keyInformation.length; offset += 2) {
      const reference = keyInformation[offset] ?? 0;
      if (reference >= 1 && reference <= 3) keyStatus[reference - 1] = keyInformation[offset + 1] ?? 0;
    }
  }
  return {
    aid: decodeAid(aid),
    extendedCapabilities: findDiscretionary(nodes, 0xc0) ?? new Uint8Array(0),
    algorithms: [attribute(0xc1), attribute(0xc2), attribute(0xc3)],
    passwordStatus: decodePasswordStatus(findDiscretionary(nodes, 0xc4) ?? corrupt('PW status (C4) is missing')),
    fingerprints: [fingerprints.slice(0, 20), fingerprints.slice(20, 40), fingerprints.slice(40, 60)],
    ...(keyStatus ? { keyStatus } : {}),
    ...optionalMaxResponseLength(maxResponseLengthOf(findTlvValue(nodes, 0x6e, 0x7f66))),
  };
}

/** True when slot `slot` holds a key: DE does not say it is absent, and its fingerprint is set. */
export function isSlotOccupied(data: ApplicationData, slot: KeySlot): boolean {
  if (data.keyStatus !== undefined && data.keyStatus[slot] === KeyStatus.absent) return false;
  // A key without its fingerprint (a generation interrupted before the fingerprint was written) is an
  // empty slot to GnuPG and OpenSC: it is one to us too.
  return data.fingerprints[slot]?.some((byte) => byte !== 0) ?? false;
}

/** A public key as the card returns it in 7F49. */
export type CardPublicKey =
  | { readonly kind: 'rsa'; readonly modulus: Uint8Array; readonly publicExponent: Uint8Array }
  | { readonly kind: 'ecc'; readonly point: Uint8Array };

/** Parses the public key template `7F49` (answer of GENERATE ASYMMETRIC KEY PAIR). */
export function decodePublicKeyTemplate(bytes: Uint8Array): CardPublicKey {
  const nodes = decodeTlv(bytes, MALFORMED);
  const modulus = findTlvValue(nodes, 0x7f49, 0x81);
  const publicExponent = findTlvValue(nodes, 0x7f49, 0x82);
  if (modulus && publicExponent) return { kind: 'rsa', modulus, publicExponent };
  const point = findTlvValue(nodes, 0x7f49, 0x86);
  if (point) return { kind: 'ecc', point };
  return corrupt('the public key template (7F49) holds neither 81/82 nor 86');
}

/** Splits an uncompressed point `04 ‖ X ‖ Y` of `curve` into its coordinates. */
export function splitEccPoint(point: Uint8Array, coordinateBytes: number): { x: Uint8Array; y: Uint8Array } {
  if (point.length !== 1 + 2 * coordinateBytes || point[0] !== 0x04) corrupt('the EC point is not uncompressed');
  return { x: point.slice(1, 1 + coordinateBytes), y: point.slice(1 + coordinateBytes) };
}

/** An OpenPGP MPI: 2-byte bit count, then the big-endian integer without leading zero bytes. */
function encodeMpi(value: Uint8Array): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const digits = value.subarray(start);
  const first = digits[0] ?? 0;
  const bits = first === 0 ? 0 : (digits.length - 1) * 8 + (32 - Math.clz32(first));
  return concatBytes(Uint8Array.of(bits >> 8, bits & 0xff), digits);
}

/**
 * ECDH KDF parameters GnuPG uses per curve (RFC 6637 §9: `03 01 <hash> <cipher>`): SHA-256/AES-128,
 * SHA-384/AES-256, SHA-512/AES-256.
 */
const ECDH_KDF_PARAMETERS: Readonly<Record<EccCurve, Uint8Array>> = {
  'P-256': Uint8Array.of(0x03, 0x01, 0x08, 0x07),
  'P-384': Uint8Array.of(0x03, 0x01, 0x09, 0x09),
  'P-521': Uint8Array.of(0x03, 0x01, 0x0a, 0x09),
};

/**
 * The body of an OpenPGP v4 public-key packet (RFC 4880 §5.5.2, RFC 6637 §9): `04 ‖ time ‖ algorithm ‖
 * key material` (RSA: MPI n, MPI e; ECDSA: OID length, OID, MPI point; ECDH: the same plus KDF parameters).
 */
export function encodePublicKeyPacket(
  algorithm: Exclude<KeyAlgorithm, { kind: 'other' }>,
  publicKey: CardPublicKey,
  creationTime: number,
): Uint8Array {
  const header = Uint8Array.of(
    0x04,
    (creationTime >>> 24) & 0xff,
    (creationTime >>> 16) & 0xff,
    (creationTime >>> 8) & 0xff,
    creationTime & 0xff,
  );
  if (algorithm.kind === 'rsa' && publicKey.kind === 'rsa') {
    return concatBytes(header, Uint8Array.of(1), encodeMpi(publicKey.modulus), encodeMpi(publicKey.publicExponent));
  }
  if (algorithm.kind === 'ecc' && publicKey.kind === 'ecc') {
    const oid = concatBytes(Uint8Array.of(algorithm.oid.length), algorithm.oid);
    const material = concatBytes(oid, encodeMpi(publicKey.point));
    return algorithm.algorithmId === OpenPgpAlgorithmId.ecdh
      ? concatBytes(header, Uint8Array.of(18), material, ECDH_KDF_PARAMETERS[algorithm.curve])
      : concatBytes(header, Uint8Array.of(19), material);
  }
  throw new ScardError('SCARD_E_UNEXPECTED', 'the public key does not match the algorithm attributes');
}

/** The v4 fingerprint: SHA-1(`99` ‖ 2-byte packet length ‖ packet body) (RFC 4880 §12.2). */
export function computeFingerprint(packetBody: Uint8Array): Uint8Array {
  const length = packetBody.length;
  const hash = createHash('sha1');
  hash.update(Uint8Array.of(0x99, (length >> 8) & 0xff, length & 0xff));
  hash.update(packetBody);
  return new Uint8Array(hash.digest());
}

/**
 * OpenSC's container name for a key (docs/spec/openpgp.md §6.1): SHA-1(key id ‖ serial), first 16 bytes as a
 * lower-case GUID string without braces. Key ids are 1 SIG, 2 DEC, 3 AUT.
 */
export function containerNameOf(slot: KeySlot, serial: Uint8Array): string {
  const digest = createHash('sha1')
    .update(concatBytes(Uint8Array.of(slot + 1), serial))
    .digest('hex');
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
}

/** Private key material to import, big-endian. */
export type ImportedPrivateKey =
  | {
      readonly kind: 'rsa';
      readonly publicExponent: Uint8Array;
      readonly prime1: Uint8Array;
      readonly prime2: Uint8Array;
    }
  | { readonly kind: 'ecc'; readonly privateScalar: Uint8Array };

/**
 * The extended header list of a key import (docs/spec/openpgp.md §4.8): `4D { CRT, 7F48 { tag-length pairs },
 * 5F48 { values } }`. RSA uses the standard format (00): 91 e (left-padded to the attributes' e size),
 * 92 p, 93 q; ECC: 92 private scalar.
 */
export function encodeKeyImportTemplate(
  crtTag: number,
  algorithm: Exclude<KeyAlgorithm, { kind: 'other' }>,
  key: ImportedPrivateKey,
): Uint8Array {
  const parts: [number, Uint8Array][] = [];
  if (algorithm.kind === 'rsa' && key.kind === 'rsa') {
    const half = algorithm.modulusBits / 16;
    parts.push([0x91, leftPadTo(key.publicExponent, Math.ceil(algorithm.exponentBits / 8))]);
    parts.push([0x92, leftPadTo(key.prime1, half)]);
    parts.push([0x93, leftPadTo(key.prime2, half)]);
  } else if (algorithm.kind === 'ecc' && key.kind === 'ecc') {
    parts.push([0x92, key.privateScalar]);
  } else {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the key to import does not match the algorithm');
  }
  const headerList = concatBytes(
    ...parts.map(([tag, value]) => concatBytes(tagBytes(tag), encodeLength(value.length))),
  );
  const values = concatBytes(...parts.map(([, value]) => value));
  return encodeTlv(
    0x4d,
    concatBytes(Uint8Array.of(crtTag, 0x00), encodeTlv(0x7f48, headerList), encodeTlv(0x5f48, values)),
  );
}

function leftPadTo(value: Uint8Array, length: number): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0 && value.length - start > length) start++;
  const digits = value.subarray(start);
  if (digits.length > length)
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a key component is too long for the card');
  const out = new Uint8Array(length);
  out.set(digits, length - digits.length);
  return out;
}
