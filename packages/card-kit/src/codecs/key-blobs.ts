/**
 * Key BLOBs exchanged through the interface (docs/spec/minidriver.md §9.1): CryptoAPI PUBLICKEYBLOB / PRIVATEKEYBLOB
 * for RSA (little-endian integers) and CNG BCRYPT_ECCKEY_BLOB for ECC (big-endian coordinates), and their
 * conversion to and from node:crypto KeyObjects. Objects hold big-endian integers without leading zeros
 * (as JWK does); ECC coordinates are left-padded to the field size. Blobs come from callers, so every
 * decoder throws SCARD_E_INVALID_PARAMETER for a malformed one.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CALG_RSA_KEYX, CALG_RSA_SIGN, ScardError } from '@minidriver/spec';
import { invalidInput, readUint32, requireBytes, writeUint32 } from './binary.js';

const PUBLICKEYBLOB = 0x06;
const PRIVATEKEYBLOB = 0x07;
const CUR_BLOB_VERSION = 0x02;
const RSA1 = 0x31415352;
const RSA2 = 0x32415352;
const RSA_HEADER_SIZE = 20;
const ECC_HEADER_SIZE = 8;

/** The container half a key lives in. */
export type KeySlot = 'signature' | 'keyExchange';
/** NIST curves of the ECC key specs. */
export type EccCurve = 'P-256' | 'P-384' | 'P-521';
/** What an ECC key is for: ECDSA keys sit in the signature slot, ECDH keys in the key-exchange slot. */
export type EccKeyUse = 'ecdsa' | 'ecdh';

/** An RSA public key, big-endian. */
export interface RsaPublicKey {
  readonly modulus: Uint8Array;
  readonly publicExponent: Uint8Array;
}

/** A decoded PUBLICKEYBLOB. */
export interface RsaPublicKeyBlob extends RsaPublicKey {
  readonly keySlot: KeySlot;
  /** `bitlen`. */
  readonly bits: number;
}

/** An RSA private key with its CRT components, big-endian (JWK n, e, d, p, q, dp, dq, qi). */
export interface RsaPrivateKey extends RsaPublicKey {
  readonly privateExponent: Uint8Array;
  readonly prime1: Uint8Array;
  readonly prime2: Uint8Array;
  readonly exponent1: Uint8Array;
  readonly exponent2: Uint8Array;
  readonly coefficient: Uint8Array;
}

/** A decoded PRIVATEKEYBLOB. */
export interface RsaPrivateKeyBlob extends RsaPrivateKey {
  readonly keySlot: KeySlot;
  readonly bits: number;
}

/** An ECC public key: coordinates big-endian, field-size long (32/48/66). */
export interface EccPublicKey {
  readonly curve: EccCurve;
  readonly x: Uint8Array;
  readonly y: Uint8Array;
}

/** A decoded ECC public BLOB. */
export interface EccPublicKeyBlob extends EccPublicKey {
  readonly use: EccKeyUse;
}

/** An ECC private key: `d` big-endian, field-size long. */
export interface EccPrivateKey extends EccPublicKey {
  readonly d: Uint8Array;
}

/** A decoded ECC private BLOB. */
export interface EccPrivateKeyBlob extends EccPrivateKey {
  readonly use: EccKeyUse;
}

const CURVE_BYTES: Readonly<Record<EccCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_BITS: Readonly<Record<EccCurve, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };

/** dwMagic = 'E' 'C' ('S'|'K') digit, digit = 1/3/5 public and 2/4/6 private for P-256/384/521. */
function eccMagic(curve: EccCurve, use: EccKeyUse, isPrivate: boolean): number {
  const digit = { 'P-256': 1, 'P-384': 3, 'P-521': 5 }[curve] + (isPrivate ? 1 : 0);
  return 0x45 | (0x43 << 8) | ((use === 'ecdsa' ? 0x53 : 0x4b) << 16) | ((0x30 + digit) << 24);
}

function parseEccMagic(magic: number): { curve: EccCurve; use: EccKeyUse; isPrivate: boolean } | undefined {
  if ((magic & 0xffff) !== 0x4345) return undefined;
  const kind = (magic >>> 16) & 0xff;
  const digit = (magic >>> 24) - 0x30;
  if ((kind !== 0x53 && kind !== 0x4b) || digit < 1 || digit > 6) return undefined;
  const curve = (['P-256', 'P-384', 'P-521'] as const)[(digit - 1) >> 1] as EccCurve;
  return { curve, use: kind === 0x53 ? 'ecdsa' : 'ecdh', isPrivate: digit % 2 === 0 };
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.slice(start);
}

function reversed(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes).reverse();
}

/** Big-endian `value` → little-endian field of `length` bytes; too large → SCARD_E_INVALID_PARAMETER. */
function writeLittleEndian(out: Uint8Array, offset: number, value: Uint8Array, length: number, what: string): void {
  requireBytes(value, what);
  const minimal = stripLeadingZeros(value);
  if (minimal.length > length) invalidInput(`${what} does not fit in ${length} bytes`);
  for (let index = 0; index < minimal.length; index++)
    out[offset + index] = minimal[minimal.length - 1 - index] as number;
}

/** Big-endian `value` → `length` bytes, left-padded; too large → SCARD_E_INVALID_PARAMETER. */
function padBigEndian(value: Uint8Array, length: number, what: string): Uint8Array {
  requireBytes(value, what);
  const minimal = stripLeadingZeros(value);
  if (minimal.length > length) invalidInput(`${what} does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  out.set(minimal, length - minimal.length);
  return out;
}

function keySlotAlgorithm(keySlot: KeySlot): number {
  if (keySlot === 'signature') return CALG_RSA_SIGN;
  if (keySlot === 'keyExchange') return CALG_RSA_KEYX;
  return invalidInput(`unknown key slot "${String(keySlot)}"`);
}

function rsaHeader(
  type: number,
  magic: number,
  keySlot: KeySlot,
  modulus: Uint8Array,
  publicExponent: Uint8Array,
  extra: number,
) {
  requireBytes(modulus, 'modulus');
  const minimalModulus = stripLeadingZeros(modulus);
  if (minimalModulus.length < 2 || minimalModulus[0] === 0) invalidInput('RSA modulus is empty');
  const modulusBytes = minimalModulus.length;
  const exponent = stripLeadingZeros(publicExponent);
  if (exponent.length > 4) invalidInput('RSA public exponent must fit in 32 bits');
  const out = new Uint8Array(RSA_HEADER_SIZE + modulusBytes + extra);
  out[0] = type;
  out[1] = CUR_BLOB_VERSION;
  writeUint32(out, 4, keySlotAlgorithm(keySlot));
  writeUint32(out, 8, magic);
  writeUint32(out, 12, modulusBytes * 8);
  writeLittleEndian(out, 16, exponent, 4, 'public exponent');
  writeLittleEndian(out, RSA_HEADER_SIZE, minimalModulus, modulusBytes, 'modulus');
  return { out, modulusBytes };
}

/**
 * PUBLICKEYBLOB (docs/spec/minidriver.md §9.1.1): `06 02 00 00`, aiKeyAlg (CALG_RSA_SIGN for the signature slot, CALG_RSA_KEYX for
 * key exchange), "RSA1", bitlen (= 8 × modulus bytes), pubexp, modulus little-endian.
 */
export function encodeRsaPublicKeyBlob(key: RsaPublicKey, keySlot: KeySlot): Uint8Array {
  return rsaHeader(PUBLICKEYBLOB, RSA1, keySlot, key.modulus, key.publicExponent, 0).out;
}

function readRsaHeader(bytes: Uint8Array, type: number, magic: number, what: string, bitMultiple: number) {
  requireBytes(bytes, what);
  if (bytes.length < RSA_HEADER_SIZE) invalidInput(`${what} is too short`);
  if (bytes[0] !== type || bytes[1] !== CUR_BLOB_VERSION || bytes[2] !== 0 || bytes[3] !== 0)
    invalidInput(`not a ${what}`);
  const algorithm = readUint32(bytes, 4);
  const keySlot: KeySlot | undefined =
    algorithm === CALG_RSA_SIGN ? 'signature' : algorithm === CALG_RSA_KEYX ? 'keyExchange' : undefined;
  if (!keySlot) invalidInput(`${what} aiKeyAlg 0x${algorithm.toString(16)} is not an RSA key algorithm`);
  if (readUint32(bytes, 8) !== magic) invalidInput(`${what} has the wrong magic`);
  const bits = readUint32(bytes, 12);
  if (bits === 0 || bits % bitMultiple !== 0 || bits > 16384)
    invalidInput(`${what} bit length ${bits} is not supported`);
  const publicExponent = stripLeadingZeros(reversed(bytes.subarray(16, 20)));
  return { keySlot, bits, modulusBytes: bits / 8, publicExponent };
}

/** Decodes a PUBLICKEYBLOB (exact length 20 + bitlen/8). */
export function decodeRsaPublicKeyBlob(bytes: Uint8Array): RsaPublicKeyBlob {
  const { keySlot, bits, modulusBytes, publicExponent } = readRsaHeader(bytes, PUBLICKEYBLOB, RSA1, 'PUBLICKEYBLOB', 8);
  if (bytes.length !== RSA_HEADER_SIZE + modulusBytes)
    invalidInput(`PUBLICKEYBLOB of ${bits} bits must be ${RSA_HEADER_SIZE + modulusBytes} bytes`);
  return { keySlot, bits, publicExponent, modulus: stripLeadingZeros(reversed(bytes.subarray(RSA_HEADER_SIZE))) };
}

const PRIVATE_FIELDS = ['prime1', 'prime2', 'exponent1', 'exponent2', 'coefficient'] as const;

/**
 * PRIVATEKEYBLOB (docs/spec/minidriver.md §9.1.3): header with "RSA2", then modulus (n/8), prime1, prime2, exponent1, exponent2,
 * coefficient (n/16 each) and privateExponent (n/8), all little-endian and zero-padded. For tests and
 * for building import requests.
 */
export function encodeRsaPrivateKeyBlob(key: RsaPrivateKey, keySlot: KeySlot): Uint8Array {
  const modulus = stripLeadingZeros(key.modulus);
  const half = modulus.length / 2;
  if (!Number.isInteger(half)) invalidInput('RSA modulus length must be even');
  const { out, modulusBytes } = rsaHeader(
    PRIVATEKEYBLOB,
    RSA2,
    keySlot,
    modulus,
    key.publicExponent,
    5 * half + modulus.length,
  );
  let offset = RSA_HEADER_SIZE + modulusBytes;
  for (const field of PRIVATE_FIELDS) {
    writeLittleEndian(out, offset, key[field], half, field);
    offset += half;
  }
  writeLittleEndian(out, offset, key.privateExponent, modulusBytes, 'privateExponent');
  return out;
}

/** Decodes a PRIVATEKEYBLOB (exact length 20 + 9·bitlen/16) into big-endian components. */
export function decodeRsaPrivateKeyBlob(bytes: Uint8Array): RsaPrivateKeyBlob {
  const { keySlot, bits, modulusBytes, publicExponent } = readRsaHeader(
    bytes,
    PRIVATEKEYBLOB,
    RSA2,
    'PRIVATEKEYBLOB',
    16,
  );
  const half = modulusBytes / 2;
  if (bytes.length !== RSA_HEADER_SIZE + 2 * modulusBytes + 5 * half)
    invalidInput(`PRIVATEKEYBLOB of ${bits} bits has the wrong length`);
  const field = (offset: number, length: number): Uint8Array =>
    stripLeadingZeros(reversed(bytes.subarray(offset, offset + length)));
  let offset = RSA_HEADER_SIZE + modulusBytes;
  const parts: Record<(typeof PRIVATE_FIELDS)[number], Uint8Array> = {} as never;
  for (const name of PRIVATE_FIELDS) {
    parts[name] = field(offset, half);
    offset += half;
  }
  return {
    keySlot,
    bits,
    publicExponent,
    modulus: field(RSA_HEADER_SIZE, modulusBytes),
    ...parts,
    privateExponent: field(offset, modulusBytes),
  };
}

function requireCurve(curve: unknown): asserts curve is EccCurve {
  if (curve !== 'P-256' && curve !== 'P-384' && curve !== 'P-521') invalidInput(`unknown curve "${String(curve)}"`);
}

function requireUse(use: unknown): asserts use is EccKeyUse {
  if (use !== 'ecdsa' && use !== 'ecdh') invalidInput(`unknown ECC key use "${String(use)}"`);
}

function encodeEcc(
  curve: EccCurve,
  use: EccKeyUse,
  parts: readonly [string, Uint8Array][],
  isPrivate: boolean,
): Uint8Array {
  requireCurve(curve);
  requireUse(use);
  const size = CURVE_BYTES[curve];
  const out = new Uint8Array(ECC_HEADER_SIZE + parts.length * size);
  writeUint32(out, 0, eccMagic(curve, use, isPrivate));
  writeUint32(out, 4, size);
  parts.forEach(([name, value], index) => {
    out.set(padBigEndian(value, size, name), ECC_HEADER_SIZE + index * size);
  });
  return out;
}

/**
 * BCRYPT_ECCKEY_BLOB public form (docs/spec/minidriver.md §9.1.2): dwMagic (ECS1/3/5 for ECDSA, ECK1/3/5 for ECDH), cbKey
 * (32/48/66), X, Y big-endian.
 */
export function encodeEccPublicKeyBlob(key: EccPublicKey, use: EccKeyUse): Uint8Array {
  return encodeEcc(
    key.curve,
    use,
    [
      ['x', key.x],
      ['y', key.y],
    ],
    false,
  );
}

/** BCRYPT_ECCKEY_BLOB private form (docs/spec/minidriver.md §9.1.4): private magic (ECS2/4/6, ECK2/4/6), cbKey, X, Y, d. */
export function encodeEccPrivateKeyBlob(key: EccPrivateKey, use: EccKeyUse): Uint8Array {
  return encodeEcc(
    key.curve,
    use,
    [
      ['x', key.x],
      ['y', key.y],
      ['d', key.d],
    ],
    true,
  );
}

function decodeEcc(bytes: Uint8Array, isPrivate: boolean) {
  const what = isPrivate ? 'ECC private key BLOB' : 'ECC public key BLOB';
  requireBytes(bytes, what);
  if (bytes.length < ECC_HEADER_SIZE) invalidInput(`${what} is too short`);
  const magic = parseEccMagic(readUint32(bytes, 0));
  if (!magic || magic.isPrivate !== isPrivate) invalidInput(`${what} has the wrong magic`);
  const size = CURVE_BYTES[magic.curve];
  if (readUint32(bytes, 4) !== size) invalidInput(`${what} cbKey does not match ${magic.curve}`);
  const count = isPrivate ? 3 : 2;
  if (bytes.length !== ECC_HEADER_SIZE + count * size)
    invalidInput(`${what} for ${magic.curve} must be ${ECC_HEADER_SIZE + count * size} bytes`);
  const part = (index: number): Uint8Array =>
    bytes.slice(ECC_HEADER_SIZE + index * size, ECC_HEADER_SIZE + (index + 1) * size);
  return { curve: magic.curve, use: magic.use, x: part(0), y: part(1), part };
}

/** Decodes a BCRYPT_ECCKEY_BLOB public form; the magic must be a public one with the right cbKey and length. */
export function decodeEccPublicKeyBlob(bytes: Uint8Array): EccPublicKeyBlob {
  const { curve, use, x, y } = decodeEcc(bytes, false);
  return { curve, use, x, y };
}

/** Decodes a BCRYPT_ECCKEY_BLOB private form (X, Y, d). */
export function decodeEccPrivateKeyBlob(bytes: Uint8Array): EccPrivateKeyBlob {
  const { curve, use, x, y, part } = decodeEcc(bytes, true);
  return { curve, use, x, y, d: part(2) };
}

/** Algorithm and size of any key BLOB above (public or private); not a key BLOB → SCARD_E_INVALID_PARAMETER. */
export function keyBlobInfo(blob: Uint8Array): { algorithm: 'RSA' | 'ECDSA' | 'ECDH'; bits: number } {
  requireBytes(blob, 'key BLOB');
  if (blob[0] === PUBLICKEYBLOB) return { algorithm: 'RSA', bits: decodeRsaPublicKeyBlob(blob).bits };
  if (blob[0] === PRIVATEKEYBLOB) return { algorithm: 'RSA', bits: decodeRsaPrivateKeyBlob(blob).bits };
  const magic = blob.length >= 4 ? parseEccMagic(readUint32(blob, 0)) : undefined;
  if (!magic) invalidInput('not a key BLOB');
  decodeEcc(blob, magic.isPrivate);
  return { algorithm: magic.use === 'ecdsa' ? 'ECDSA' : 'ECDH', bits: CURVE_BITS[magic.curve] };
}

const base64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const fromBase64Url = (text: string | undefined): Uint8Array => new Uint8Array(Buffer.from(text ?? '', 'base64url'));

function toKeyObject(create: () => KeyObject): KeyObject {
  try {
    return create();
  } catch (error) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the key BLOB does not hold a valid key', { cause: error });
  }
}

/** A node:crypto public KeyObject from a PUBLICKEYBLOB or an ECC public BLOB (point checked by node). */
export function publicKeyBlobToKeyObject(blob: Uint8Array): KeyObject {
  requireBytes(blob, 'public key BLOB');
  if (blob[0] === PUBLICKEYBLOB) {
    const key = decodeRsaPublicKeyBlob(blob);
    return toKeyObject(() =>
      createPublicKey({
        key: { kty: 'RSA', n: base64Url(key.modulus), e: base64Url(key.publicExponent) },
        format: 'jwk',
      }),
    );
  }
  const key = decodeEccPublicKeyBlob(blob);
  return toKeyObject(() =>
    createPublicKey({ key: { kty: 'EC', crv: key.curve, x: base64Url(key.x), y: base64Url(key.y) }, format: 'jwk' }),
  );
}

/** A node:crypto private KeyObject from a PRIVATEKEYBLOB or an ECC private BLOB (for key import). */
export function privateKeyBlobToKeyObject(blob: Uint8Array): KeyObject {
  requireBytes(blob, 'private key BLOB');
  if (blob[0] === PRIVATEKEYBLOB) {
    const key = decodeRsaPrivateKeyBlob(blob);
    return toKeyObject(() =>
      createPrivateKey({
        key: {
          kty: 'RSA',
          n: base64Url(key.modulus),
          e: base64Url(key.publicExponent),
          d: base64Url(key.privateExponent),
          p: base64Url(key.prime1),
          q: base64Url(key.prime2),
          dp: base64Url(key.exponent1),
          dq: base64Url(key.exponent2),
          qi: base64Url(key.coefficient),
        },
        format: 'jwk',
      }),
    );
  }
  const key = decodeEccPrivateKeyBlob(blob);
  return toKeyObject(() =>
    createPrivateKey({
      key: { kty: 'EC', crv: key.curve, x: base64Url(key.x), y: base64Url(key.y), d: base64Url(key.d) },
      format: 'jwk',
    }),
  );
}

/**
 * The public key BLOB of a node:crypto key (public, or the public half of a private one). RSA →
 * PUBLICKEYBLOB with the slot's aiKeyAlg; EC → ECDSA magic for the signature slot, ECDH magic for key
 * exchange (docs/spec/minidriver.md §9.1.2). Other key types or curves → SCARD_E_INVALID_PARAMETER.
 */
export function keyObjectToPublicKeyBlob(key: KeyObject, slot: KeySlot): Uint8Array {
  let jwk: { kty?: string; n?: string; e?: string; crv?: string; x?: string; y?: string };
  try {
    jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  } catch (error) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the key cannot be exported', { cause: error });
  }
  if (jwk.kty === 'RSA')
    return encodeRsaPublicKeyBlob({ modulus: fromBase64Url(jwk.n), publicExponent: fromBase64Url(jwk.e) }, slot);
  if (jwk.kty === 'EC') {
    requireCurve(jwk.crv);
    if (slot !== 'signature' && slot !== 'keyExchange') invalidInput(`unknown key slot "${String(slot)}"`);
    return encodeEccPublicKeyBlob(
      { curve: jwk.crv, x: fromBase64Url(jwk.x), y: fromBase64Url(jwk.y) },
      slot === 'signature' ? 'ecdsa' : 'ecdh',
    );
  }
  return invalidInput(`key type ${String(jwk.kty)} has no key BLOB`);
}
