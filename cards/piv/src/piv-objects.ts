/**
 * Codecs of the PIV data objects and response templates the plugin reads and writes (docs/spec/piv.md §4,
 * docs/spec/piv.md §6.6, §6.7, §8): certificate objects (with the gzip CertInfo flag), the CHUID, public key templates,
 * YubiKey metadata, the dynamic authentication template, and the PIN format. Everything read from the
 * card that does not parse is SCARD_E_COMM_DATA_LOST.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeTlv, encodeTlv, findTlv, type TlvNode } from '@minidriver/iso7816';
import { concatBytes, ScardError } from '@minidriver/spec';
import { PivAlgorithmId } from './piv-commands.js';

const CARD_DATA = { malformedError: 'SCARD_E_COMM_DATA_LOST' } as const;
/** Largest certificate we inflate: far above any PIV object (12710 bytes), small enough to be safe. */
const MAX_CERTIFICATE_LENGTH = 65_536;
/** CertInfo b1: the certificate is gzip-compressed (docs/spec/piv.md §4.1); OpenSC also honours 0x80 on old cards. */
const CERT_INFO_COMPRESSED = 0x01;
const CERT_INFO_LEGACY_COMPRESSED = 0x80;

function corrupt(message: string, cause?: unknown): never {
  throw new ScardError('SCARD_E_COMM_DATA_LOST', message, cause === undefined ? undefined : { cause });
}

/** The value of the `53` wrapper of a GET DATA response (the object's flat inner TLVs). */
export function decodeObjectWrapper(response: Uint8Array): TlvNode[] {
  const nodes = decodeTlv(response, CARD_DATA);
  const wrapper = nodes[0];
  if (nodes.length !== 1 || wrapper?.tag !== 0x53) corrupt('PIV object is not wrapped in tag 53');
  return decodeTlv(wrapper.value, CARD_DATA);
}

/** A certificate object: the DER certificate (inflated) or undefined for an empty object, and whether it was compressed. */
export interface CertificateObject {
  readonly certificate: Uint8Array | undefined;
  readonly compressed: boolean;
}

/** Decodes `53 { 70 <cert> 71 <CertInfo> [72 …] FE 00 }`; an empty `70` or `53 00` means "no certificate". */
export function decodeCertificateObject(response: Uint8Array): CertificateObject {
  const items = decodeObjectWrapper(response);
  const certificate = items.find((item) => item.tag === 0x70);
  if (certificate === undefined || certificate.value.length === 0) return { certificate: undefined, compressed: false };
  const info = items.find((item) => item.tag === 0x71)?.value[0] ?? 0;
  const gzipMagic = certificate.value[0] === 0x1f && certificate.value[1] === 0x8b;
  const compressed = (info & (CERT_INFO_COMPRESSED | CERT_INFO_LEGACY_COMPRESSED)) !== 0 || gzipMagic;
  if (!compressed) return { certificate: certificate.value, compressed: false };
  try {
    return {
      certificate: new Uint8Array(gunzipSync(certificate.value, { maxOutputLength: MAX_CERTIFICATE_LENGTH })),
      compressed: true,
    };
  } catch (error) {
    return corrupt('compressed PIV certificate does not inflate', error);
  }
}

/** Encodes a certificate object; `compress` stores it gzip-compressed with CertInfo 01. */
export function encodeCertificateObject(der: Uint8Array, compress = false): Uint8Array {
  const body = compress ? new Uint8Array(gzipSync(der, { level: 9 })) : der;
  return encodeTlv(
    0x53,
    concatBytes(
      encodeTlv(0x70, body),
      encodeTlv(0x71, Uint8Array.of(compress ? CERT_INFO_COMPRESSED : 0x00)),
      encodeTlv(0xfe, new Uint8Array(0)),
    ),
  );
}

/** The `53 00` that deletes an object (docs/spec/piv.md §4.1). */
export const EMPTY_OBJECT: Uint8Array = Uint8Array.of(0x53, 0x00);

/** The elements of the CHUID the plugin uses. */
export interface Chuid {
  /** FASC-N (tag 30), 25 bytes. */
  readonly fascn: Uint8Array | undefined;
  /** Card UUID (tag 34), 16 bytes. */
  readonly guid: Uint8Array | undefined;
}

/** Decodes the CHUID object (docs/spec/piv.md §4.2). */
export function decodeChuid(response: Uint8Array): Chuid {
  const items = decodeObjectWrapper(response);
  const fascn = items.find((item) => item.tag === 0x30)?.value;
  const guid = items.find((item) => item.tag === 0x34)?.value;
  if (guid !== undefined && guid.length !== 16) corrupt(`CHUID GUID has ${guid.length} bytes, not 16`);
  return { fascn, guid };
}

/** FASC-N of a non-government "PIV-compatible" card (agency code 9999, docs/spec/piv.md §4.2). */
export const NON_GOVERNMENT_FASCN_PREFIX: Uint8Array = Uint8Array.of(0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed);

/** An asymmetric public key as the card describes it, big-endian integers. */
export type PivPublicKey =
  | { readonly kind: 'rsa'; readonly bits: number; readonly modulus: Uint8Array; readonly publicExponent: Uint8Array }
  | {
      readonly kind: 'ecc';
      readonly bits: 256 | 384;
      readonly curve: 'P-256' | 'P-384';
      readonly x: Uint8Array;
      readonly y: Uint8Array;
    };

/** RSA size of an algorithm id, or undefined for non-RSA ids. */
export function rsaBitsOfAlgorithm(algorithmId: number): number | undefined {
  switch (algorithmId) {
    case PivAlgorithmId.RSA1024:
      return 1024;
    case PivAlgorithmId.RSA2048:
      return 2048;
    case PivAlgorithmId.RSA3072:
      return 3072;
    case PivAlgorithmId.RSA4096:
      return 4096;
    default:
      return undefined;
  }
}

/** The algorithm id of a public key (RSA size or curve). */
export function algorithmIdOfKey(key: PivPublicKey): number {
  if (key.kind === 'ecc') return key.curve === 'P-256' ? PivAlgorithmId.ECC_P256 : PivAlgorithmId.ECC_P384;
  switch (key.bits) {
    case 1024:
      return PivAlgorithmId.RSA1024;
    case 2048:
      return PivAlgorithmId.RSA2048;
    case 3072:
      return PivAlgorithmId.RSA3072;
    case 4096:
      return PivAlgorithmId.RSA4096;
    default:
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `a ${key.bits}-bit RSA key has no PIV algorithm id`);
  }
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.slice(start);
}

/**
 * The public key in the inner objects of a `7F49` template (GENERATE response) or of metadata tag 04:
 * `81` modulus + `82` exponent for RSA, `86` uncompressed point for ECC.
 */
export function decodePublicKeyObjects(objects: Uint8Array, algorithmId: number): PivPublicKey {
  const items = decodeTlv(objects, CARD_DATA);
  const rsaBits = rsaBitsOfAlgorithm(algorithmId);
  if (rsaBits !== undefined) {
    const modulus = items.find((item) => item.tag === 0x81)?.value;
    const exponent = items.find((item) => item.tag === 0x82)?.value;
    if (modulus === undefined || exponent === undefined || exponent.length === 0) corrupt('RSA public key lacks 81/82');
    const trimmed = stripLeadingZeros(modulus);
    if (trimmed.length * 8 > rsaBits || trimmed.length * 8 < rsaBits - 8)
      corrupt('RSA modulus does not match its algorithm');
    return { kind: 'rsa', bits: rsaBits, modulus: trimmed, publicExponent: stripLeadingZeros(exponent) };
  }
  const coordinateBytes =
    algorithmId === PivAlgorithmId.ECC_P256 ? 32 : algorithmId === PivAlgorithmId.ECC_P384 ? 48 : undefined;
  if (coordinateBytes === undefined) {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `PIV algorithm ${algorithmId.toString(16)} is not supported`);
  }
  const point = items.find((item) => item.tag === 0x86)?.value;
  if (point === undefined || point.length !== 1 + 2 * coordinateBytes || point[0] !== 0x04) {
    corrupt('EC public key is not an uncompressed point of its curve');
  }
  return {
    kind: 'ecc',
    bits: coordinateBytes === 32 ? 256 : 384,
    curve: coordinateBytes === 32 ? 'P-256' : 'P-384',
    x: point.slice(1, 1 + coordinateBytes),
    y: point.slice(1 + coordinateBytes),
  };
}

/** Decodes the GENERATE ASYMMETRIC KEY PAIR response `7F49 { … }`. */
export function decodeGeneratedKey(response: Uint8Array, algorithmId: number): PivPublicKey {
  const template = findTlv(decodeTlv(response, CARD_DATA), 0x7f49);
  if (template === undefined) corrupt('GENERATE response lacks 7F49');
  return decodePublicKeyObjects(template.value, algorithmId);
}

/** Encodes a public key back into the inner objects of `7F49` (for caching). */
export function encodePublicKeyObjects(key: PivPublicKey): Uint8Array {
  if (key.kind === 'rsa') {
    return Uint8Array.from([...encodeTlv(0x81, key.modulus), ...encodeTlv(0x82, key.publicExponent)]);
  }
  return encodeTlv(0x86, Uint8Array.from([0x04, ...key.x, ...key.y]));
}

/** YubiKey GET METADATA of a key slot (docs/spec/piv.md §8). */
export interface SlotMetadata {
  readonly algorithmId: number;
  /** PIN policy (01 never, 02 once, 03 always), already resolved from "default" by the card. */
  readonly pinPolicy: number;
  readonly touchPolicy: number;
  readonly publicKey: PivPublicKey;
}

/** Decodes the metadata of a key slot: tags 01 algorithm, 02 policies, 04 public key. */
export function decodeSlotMetadata(response: Uint8Array): SlotMetadata {
  const items = decodeTlv(response, CARD_DATA);
  const algorithmId = items.find((item) => item.tag === 0x01)?.value[0];
  const policy = items.find((item) => item.tag === 0x02)?.value;
  const publicKey = items.find((item) => item.tag === 0x04)?.value;
  if (algorithmId === undefined || policy?.length !== 2 || publicKey === undefined)
    corrupt('slot metadata lacks 01/02/04');
  return {
    algorithmId,
    pinPolicy: policy[0]!,
    touchPolicy: policy[1]!,
    publicKey: decodePublicKeyObjects(publicKey, algorithmId),
  };
}

/** Encodes slot metadata in the card's own layout (so a cached copy decodes like a fresh one). */
export function encodeSlotMetadata(metadata: SlotMetadata): Uint8Array {
  return Uint8Array.from([
    ...encodeTlv(0x01, Uint8Array.of(metadata.algorithmId)),
    ...encodeTlv(0x02, Uint8Array.of(metadata.pinPolicy, metadata.touchPolicy)),
    ...encodeTlv(0x04, encodePublicKeyObjects(metadata.publicKey)),
  ]);
}

/** Metadata of a PIN or PUK: tag 06 (total, remaining retries), 05 (still the default value). */
export interface ReferenceMetadata {
  readonly totalRetries: number;
  readonly retriesLeft: number;
  readonly isDefault: boolean;
}

/** Decodes GET METADATA 80 / 81. */
export function decodeReferenceMetadata(response: Uint8Array): ReferenceMetadata {
  const items = decodeTlv(response, CARD_DATA);
  const retries = items.find((item) => item.tag === 0x06)?.value;
  if (retries?.length !== 2) corrupt('PIN metadata lacks 06');
  return {
    totalRetries: retries[0]!,
    retriesLeft: retries[1]!,
    isDefault: items.find((item) => item.tag === 0x05)?.value[0] === 1,
  };
}

/** Algorithm id of the management key from GET METADATA 9B (tag 01). */
export function decodeManagementKeyAlgorithm(response: Uint8Array): number {
  const algorithmId = decodeTlv(response, CARD_DATA).find((item) => item.tag === 0x01)?.value[0];
  if (algorithmId === undefined) corrupt('management key metadata lacks 01');
  return algorithmId;
}

/** The value of `tag` inside a GENERAL AUTHENTICATE response `7C { … }`. */
export function decodeDynamicAuthResponse(response: Uint8Array, tag: number): Uint8Array {
  const template = findTlv(decodeTlv(response, CARD_DATA), 0x7c);
  const value = template?.children?.find((item) => item.tag === tag)?.value;
  if (value === undefined) corrupt(`GENERAL AUTHENTICATE response lacks 7C/${tag.toString(16)}`);
  return value;
}

/**
 * A PIN or PUK in the 8-byte card format: the bytes right-padded with FF (docs/spec/piv.md §5.2). More than 8 bytes,
 * or none, cannot be a PIV PIN: SCARD_E_INVALID_CHV without touching the card (no retry is spent).
 */
export function padPin(pin: Uint8Array): Uint8Array {
  if (pin.length === 0 || pin.length > 8) {
    throw new ScardError('SCARD_E_INVALID_CHV', `a PIV PIN or PUK is 1 to 8 bytes, got ${pin.length}`);
  }
  const padded = new Uint8Array(8).fill(0xff);
  padded.set(pin);
  return padded;
}

/** Object tag of the Key History object (docs/spec/piv.md §4.5). */
export const KEY_HISTORY_TAG = 0x5fc10c;

/** The Key History object: how many retired keys have on-card / off-card certificates. */
export interface KeyHistory {
  readonly keysWithOnCardCerts: number;
  readonly keysWithOffCardCerts: number;
  /** offCardCertURL (F3), kept as found. */
  readonly offCardCertUrl: Uint8Array | undefined;
}

/** Decodes `53 { C1 01 n, C2 01 m, [F3 url], FE 00 }`; counts above 20 are clamped to the 20 retired slots. */
export function decodeKeyHistory(response: Uint8Array): KeyHistory {
  const items = decodeObjectWrapper(response);
  const count = (tag: number): number => {
    const value = items.find((item) => item.tag === tag)?.value;
    if (value === undefined) return 0;
    if (value.length !== 1) corrupt(`key history element ${tag.toString(16)} is not one byte`);
    return Math.min(value[0]!, 20);
  };
  return {
    keysWithOnCardCerts: count(0xc1),
    keysWithOffCardCerts: count(0xc2),
    offCardCertUrl: items.find((item) => item.tag === 0xf3)?.value,
  };
}

/** Encodes a Key History object (its `53` TLV). */
export function encodeKeyHistory(history: KeyHistory): Uint8Array {
  return encodeTlv(
    0x53,
    concatBytes(
      encodeTlv(0xc1, Uint8Array.of(history.keysWithOnCardCerts)),
      encodeTlv(0xc2, Uint8Array.of(history.keysWithOffCardCerts)),
      history.offCardCertUrl === undefined ? new Uint8Array(0) : encodeTlv(0xf3, history.offCardCertUrl),
      encodeTlv(0xfe, new Uint8Array(0)),
    ),
  );
}

/** The retired key references a Key History object exposes: 82.. for on-card certs, ..95 for off-card ones. */
export function retiredSlotsOfHistory(history: KeyHistory): Set<number> {
  const slots = new Set<number>();
  for (let offset = 0; offset < history.keysWithOnCardCerts; offset++) slots.add(0x82 + offset);
  for (let offset = 0; offset < history.keysWithOffCardCerts; offset++) slots.add(0x95 - offset);
  return slots;
}
