/**
 * The card's private-key operations with node:crypto: generation, public key export (7F49
 * content), PSO:CDS / INTERNAL AUTHENTICATE signatures, PSO:DECIPHER (RSA, ECDH, X25519) and key
 * import from the extended header list values (docs/spec/openpgp.md §4.3-§4.8).
 */
import {
  constants,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  privateEncrypt,
  sign,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  bigIntToBytes,
  bytesToBigInt,
  type EcdsaCurveName,
  ecdsaSignDigest,
  modInverse,
} from '@minidriver/card-kit/sim';
import { decodeTlv, findTlv } from '@minidriver/iso7816';
import type { CurveInfo, EccAlgorithm, KeyAlgorithm, RsaAlgorithm } from './openpgp-algorithms.js';
import { CardStatus, OpenPgpStatus, requireCondition } from './openpgp-status.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A private key held in a slot, with the algorithm it was created for. */
export interface CardKey {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: KeyObject;
}

/** One tag/value pair of a public key template `7F49` (81 modulus, 82 exponent, 86 point). */
export interface PublicKeyField {
  readonly tag: number;
  readonly value: Uint8Array;
}

function fromBase64Url(text: string | undefined): Uint8Array {
  return Uint8Array.from(Buffer.from(text ?? '', 'base64url'));
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let index = 0;
  while (index < bytes.length - 1 && bytes[index] === 0) index += 1;
  return bytes.slice(index);
}

/** Generates a key for `algorithm` (RSA with e = 65537). */
export async function generateCardKey(algorithm: KeyAlgorithm): Promise<CardKey> {
  if (algorithm.kind === 'rsa') {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: algorithm.modulusBits });
    return { algorithm, privateKey };
  }
  const { nodeName } = algorithm.curve;
  if (nodeName === 'ed25519' || nodeName === 'x25519') {
    const { privateKey } = await generateKeyPairAsync(nodeName as 'ed25519');
    return { algorithm, privateKey };
  }
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: nodeName });
  return { algorithm, privateKey };
}

/** The fields of the public key template: RSA `81` n, `82` e; ECC `86` point (04‖X‖Y, or 32 raw bytes). */
export function publicKeyFields(key: CardKey): PublicKeyField[] {
  if (key.algorithm.kind === 'rsa') {
    const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
    return [
      { tag: 0x81, value: fromBase64Url(jwk.n) },
      { tag: 0x82, value: fromBase64Url(jwk.e) },
    ];
  }
  const { curve } = key.algorithm;
  if (curve.order === undefined) {
    const jwk = createPublicKey(key.privateKey).export({ format: 'jwk' });
    return [{ tag: 0x86, value: fromBase64Url(jwk.x) }];
  }
  return [{ tag: 0x86, value: weierstrassKeyParts(key).point }];
}

/**
 * The private scalar (padded to the field size) and public point of a Weierstrass-curve key, read from
 * its SEC 1 encoding: node cannot export brainpool keys as JWK.
 */
function weierstrassKeyParts(key: CardKey): { scalar: Uint8Array; point: Uint8Array } {
  const size = key.algorithm.kind === 'ecc' ? key.algorithm.curve.size : 0;
  const der = new Uint8Array(key.privateKey.export({ format: 'der', type: 'sec1' }));
  const fields = decodeTlv(der)[0]?.children ?? [];
  const scalar = fields.find((field) => field.tag === 0x04)?.value;
  const point = findTlv(fields, 0xa1, 0x03)?.value.subarray(1);
  der.fill(0);
  if (!scalar || !point) throw new CardStatus(OpenPgpStatus.noPreciseDiagnosis);
  return { scalar: bigIntToBytes(bytesToBigInt(scalar), size), point: point.slice() };
}

function privateScalar(key: CardKey): Uint8Array {
  return weierstrassKeyParts(key).scalar;
}

/** RSA PKCS#1 v1.5 type-1 signature over `input` (DigestInfo or raw data, at most 40 % of the modulus). */
function signRsa(key: CardKey, algorithm: RsaAlgorithm, input: Uint8Array): Uint8Array {
  requireCondition(
    input.length > 0 && input.length <= Math.floor((algorithm.modulusBits / 8) * 0.4),
    OpenPgpStatus.wrongLength,
  );
  return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, input));
}

/** ECDSA over a hash the host computed (the kit's simulator ECDSA), answer `r ‖ s`. */
function signEcdsa(key: CardKey, curve: CurveInfo, hash: Uint8Array): Uint8Array {
  requireCondition(hash.length > 0, OpenPgpStatus.wrongLength);
  // Every curve with an order is one of the kit's ECDSA curves, under the same name (openpgp-algorithms.ts).
  return ecdsaSignDigest(key.privateKey, curve.name as EcdsaCurveName, hash);
}

/** PSO:CDS and INTERNAL AUTHENTICATE: RSA pads the DigestInfo, ECDSA signs the hash, EdDSA the message. */
export function computeSignature(key: CardKey, input: Uint8Array): Uint8Array {
  const { algorithm } = key;
  if (algorithm.kind === 'rsa') return signRsa(key, algorithm, input);
  if (algorithm.curve.nodeName === 'ed25519') return new Uint8Array(sign(null, input, key.privateKey));
  requireCondition(algorithm.curve.order !== undefined, OpenPgpStatus.conditionsOfUseNotSatisfied);
  return signEcdsa(key, algorithm.curve, input);
}

/** RSA decryption: raw RSA, then the PKCS#1 v1.5 type-2 padding is checked and removed on the card. */
function decipherRsa(key: CardKey, algorithm: RsaAlgorithm, cryptogram: Uint8Array): Uint8Array {
  const modulusLength = algorithm.modulusBits / 8;
  requireCondition(cryptogram.length === modulusLength, OpenPgpStatus.wrongLength);
  let block: Uint8Array;
  try {
    block = new Uint8Array(privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, cryptogram));
  } catch {
    throw new CardStatus(OpenPgpStatus.incorrectData);
  }
  const separator = block.indexOf(0, 2);
  const valid = block[0] === 0x00 && block[1] === 0x02 && separator >= 10;
  const plaintext = valid ? block.slice(separator + 1) : undefined;
  block.fill(0);
  if (!plaintext) throw new CardStatus(OpenPgpStatus.incorrectData);
  return plaintext;
}

/** ECDH: the shared secret (x-coordinate, or the 32-byte X25519 output) with the peer's public key. */
function decipherEcdh(key: CardKey, algorithm: EccAlgorithm, peerPublicKey: Uint8Array): Uint8Array {
  const { curve } = algorithm;
  try {
    if (curve.nodeName === 'x25519') {
      requireCondition(peerPublicKey.length === 32, OpenPgpStatus.incorrectData);
      const publicKey = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(peerPublicKey) },
        format: 'jwk',
      });
      return new Uint8Array(diffieHellman({ privateKey: key.privateKey, publicKey }));
    }
    const ecdh = createECDH(curve.nodeName);
    ecdh.setPrivateKey(privateScalar(key));
    return new Uint8Array(ecdh.computeSecret(peerPublicKey));
  } catch (error) {
    if (error instanceof CardStatus) throw error;
    throw new CardStatus(OpenPgpStatus.incorrectData);
  }
}

/**
 * PSO:DECIPHER for the key's algorithm. RSA: `00` padding indicator ‖ cryptogram. ECDH: the peer's
 * public key, already taken out of the `A6 { 7F49 { 86 } }` template by the caller.
 */
export function decipher(key: CardKey, input: Uint8Array): Uint8Array {
  const { algorithm } = key;
  if (algorithm.kind === 'rsa') {
    requireCondition(input[0] === 0x00, OpenPgpStatus.incorrectData);
    return decipherRsa(key, algorithm, input.subarray(1));
  }
  requireCondition(algorithm.algorithmId === 0x12, OpenPgpStatus.conditionsOfUseNotSatisfied);
  return decipherEcdh(key, algorithm, input);
}

/** Private key material from the 5F48 values of a key import, by template tag (91 e, 92 p/scalar, ...). */
export type ImportedComponents = ReadonlyMap<number, Uint8Array>;

function importRsa(algorithm: RsaAlgorithm, components: ImportedComponents): KeyObject {
  const exponent = components.get(0x91);
  const primeP = components.get(0x92);
  const primeQ = components.get(0x93);
  requireCondition(exponent !== undefined && primeP !== undefined && primeQ !== undefined, OpenPgpStatus.incorrectData);
  const e = bytesToBigInt(exponent);
  const p = bytesToBigInt(primeP);
  const q = bytesToBigInt(primeQ);
  const n = p * q;
  requireCondition(
    e > 1n && p > 1n && q > 1n && n.toString(2).length === algorithm.modulusBits,
    OpenPgpStatus.incorrectData,
  );
  const phi = (p - 1n) * (q - 1n);
  const d = modInverse(e, phi);
  const qInverse = modInverse(q, p);
  requireCondition(d !== undefined && qInverse !== undefined, OpenPgpStatus.incorrectData);
  const jwk = {
    kty: 'RSA',
    n: toBase64Url(bigIntToBytes(n)),
    e: toBase64Url(stripLeadingZeros(exponent)),
    d: toBase64Url(bigIntToBytes(d)),
    p: toBase64Url(bigIntToBytes(p)),
    q: toBase64Url(bigIntToBytes(q)),
    dp: toBase64Url(bigIntToBytes(d % (p - 1n))),
    dq: toBase64Url(bigIntToBytes(d % (q - 1n))),
    qi: toBase64Url(bigIntToBytes(qInverse)),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function importEcc(algorithm: EccAlgorithm, components: ImportedComponents): KeyObject {
  const scalar = components.get(0x92);
  requireCondition(scalar !== undefined && scalar.length > 0, OpenPgpStatus.incorrectData);
  const { curve } = algorithm;
  if (curve.order === undefined) {
    requireCondition(scalar.length <= 32, OpenPgpStatus.incorrectData);
    const padded = bigIntToBytes(bytesToBigInt(scalar), 32);
    // X25519 scalars travel big-endian (as GnuPG and yubikit send them); node wants the native little-endian form.
    const native = curve.nodeName === 'x25519' ? padded.slice().reverse() : padded;
    const prefix =
      curve.nodeName === 'x25519' ? '302e020100300506032b656e04220420' : '302e020100300506032b657004220420';
    const der = Buffer.concat([Buffer.from(prefix, 'hex'), native]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
  const secret = bytesToBigInt(scalar);
  requireCondition(secret > 0n && secret < curve.order, OpenPgpStatus.incorrectData);
  const ecdh = createECDH(curve.nodeName);
  const d = bigIntToBytes(secret, curve.size);
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const jwkCurve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[curve.nodeName];
  if (jwkCurve) {
    return createPrivateKey({
      key: {
        kty: 'EC',
        crv: jwkCurve,
        d: toBase64Url(d),
        x: toBase64Url(point.subarray(1, 1 + curve.size)),
        y: toBase64Url(point.subarray(1 + curve.size)),
      },
      format: 'jwk',
    });
  }
  return createPrivateKey({ key: sec1Der(curve, d, point), format: 'der', type: 'sec1' });
}

/** DER length octets. */
function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  if (length < 0x100) return [0x81, length];
  return [0x82, length >> 8, length & 0xff];
}

function derElement(tag: number, content: Uint8Array | number[]): number[] {
  return [tag, ...derLength(content.length), ...content];
}

/** SEC 1 ECPrivateKey for curves JWK cannot name (brainpool): version, d, [0] curve OID, [1] public point. */
function sec1Der(curve: CurveInfo, d: Uint8Array, point: Uint8Array): Buffer {
  const body = [
    ...derElement(0x02, [1]),
    ...derElement(0x04, d),
    ...derElement(0xa0, derElement(0x06, curve.oid)),
    ...derElement(0xa1, derElement(0x03, [0, ...point])),
  ];
  return Buffer.from(derElement(0x30, body));
}

/** Builds the private key of a key import; throws `6A80` for inconsistent material. */
export function importCardKey(algorithm: KeyAlgorithm, components: ImportedComponents): CardKey {
  try {
    const privateKey = algorithm.kind === 'rsa' ? importRsa(algorithm, components) : importEcc(algorithm, components);
    return { algorithm, privateKey };
  } catch (error) {
    if (error instanceof CardStatus) throw error;
    throw new CardStatus(OpenPgpStatus.incorrectData);
  }
}

/** PKCS#8 DER of the key, for saveState. */
export function exportCardKey(key: CardKey): Uint8Array {
  return new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** Restores a key saved by exportCardKey. */
export function restoreCardKey(algorithm: KeyAlgorithm, pkcs8: Uint8Array): CardKey {
  return { algorithm, privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }) };
}
