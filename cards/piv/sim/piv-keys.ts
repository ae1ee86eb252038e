/**
 * Asymmetric keys in PIV slots: generation, import, the public key template, and the private
 * operations GENERAL AUTHENTICATE performs (raw RSA, ECDSA over a given hash, ECDH) — all with node:crypto.
 * Private keys stay inside this module; only public keys and operation results come out.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  constants as cryptoConstants,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  privateDecrypt,
} from 'node:crypto';
import { ecdsaRawToDer } from '@minidriver/card-kit';
import { bigIntToBytes, bytesToBigInt, ECDSA_CURVES, ecdsaSignDigest, modInverse } from '@minidriver/card-kit/sim';
import { encodeTlv } from '@minidriver/iso7816';
import { concatBytes } from '@minidriver/spec';
import { fail, PivStatus } from './piv-status.js';

/** PIV algorithm identifiers of asymmetric keys the simulator knows (SP 800-78-5, YubiKey). */
export const PivAlgorithm = {
  rsa1024: 0x06,
  rsa2048: 0x07,
  rsa3072: 0x05,
  rsa4096: 0x16,
  eccP256: 0x11,
  eccP384: 0x14,
} as const;

interface RsaAlgorithm {
  readonly kind: 'rsa';
  readonly bits: number;
}
interface EcAlgorithm {
  readonly kind: 'ec';
  readonly curve: 'prime256v1' | 'secp384r1';
  readonly jwkCurve: 'P-256' | 'P-384';
  readonly fieldLength: number;
  readonly order: bigint;
}
type AlgorithmInfo = RsaAlgorithm | EcAlgorithm;

const P256_ORDER = ECDSA_CURVES['P-256'].order;
const P384_ORDER = ECDSA_CURVES['P-384'].order;

const ALGORITHMS: ReadonlyMap<number, AlgorithmInfo> = new Map<number, AlgorithmInfo>([
  [PivAlgorithm.rsa1024, { kind: 'rsa', bits: 1024 }],
  [PivAlgorithm.rsa2048, { kind: 'rsa', bits: 2048 }],
  [PivAlgorithm.rsa3072, { kind: 'rsa', bits: 3072 }],
  [PivAlgorithm.rsa4096, { kind: 'rsa', bits: 4096 }],
  [PivAlgorithm.eccP256, { kind: 'ec', curve: 'prime256v1', jwkCurve: 'P-256', fieldLength: 32, order: P256_ORDER }],
  [PivAlgorithm.eccP384, { kind: 'ec', curve: 'secp384r1', jwkCurve: 'P-384', fieldLength: 48, order: P384_ORDER }],
]);

/** The RSA key size of an algorithm id, or undefined for non-RSA ids. */
export function rsaBitsOf(algorithmId: number): number | undefined {
  const info = ALGORITHMS.get(algorithmId);
  return info?.kind === 'rsa' ? info.bits : undefined;
}

/** True when the id names an asymmetric algorithm the simulator implements. */
export function isAsymmetricAlgorithm(algorithmId: number): boolean {
  return ALGORITHMS.has(algorithmId);
}

/** How a key came to be in its slot (GET METADATA tag 03). */
export type KeyOrigin = 'generated' | 'imported';

/** The persisted form of a slot key. */
export interface SlotKeyState {
  readonly algorithm: number;
  readonly pinPolicy: number;
  readonly touchPolicy: number;
  readonly origin: KeyOrigin;
  /** PKCS#8 DER, hex. */
  readonly privateKey: string;
}

/** RSA private key components as IMPORT ASYMMETRIC KEY carries them (tags 01..05). */
export interface RsaImportComponents {
  readonly p: Uint8Array;
  readonly q: Uint8Array;
  readonly dP: Uint8Array;
  readonly dQ: Uint8Array;
  readonly qInv: Uint8Array;
}

/** A private key in a PIV slot, with its algorithm id, YubiKey policies and origin. */
export class SlotKey {
  readonly algorithmId: number;
  /** PIN policy as stored (00 = slot default, 01 never, 02 once, 03 always). */
  readonly pinPolicy: number;
  /** Touch policy as stored (00 = default, 01 never, 02 always, 03 cached). Not enforced: no button here. */
  readonly touchPolicy: number;
  readonly origin: KeyOrigin;
  readonly #privateKey: KeyObject;
  readonly #info: AlgorithmInfo;

  private constructor(
    algorithmId: number,
    privateKey: KeyObject,
    pinPolicy: number,
    touchPolicy: number,
    origin: KeyOrigin,
  ) {
    const info = ALGORITHMS.get(algorithmId);
    if (info === undefined) fail(PivStatus.incorrectData);
    this.algorithmId = algorithmId;
    this.#info = info;
    this.#privateKey = privateKey;
    this.pinPolicy = pinPolicy;
    this.touchPolicy = touchPolicy;
    this.origin = origin;
  }

  /** Generates a fresh key pair on the card. */
  static generate(algorithmId: number, pinPolicy: number, touchPolicy: number): SlotKey {
    const info = ALGORITHMS.get(algorithmId);
    if (info === undefined) fail(PivStatus.incorrectData);
    const { privateKey } =
      info.kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: info.bits, publicExponent: 65537 })
        : generateKeyPairSync('ec', { namedCurve: info.curve });
    return new SlotKey(algorithmId, privateKey, pinPolicy, touchPolicy, 'generated');
  }

  /** Builds an RSA key from CRT components (public exponent 65537, as YubiKeys require). */
  static importRsa(algorithmId: number, parts: RsaImportComponents, pinPolicy: number, touchPolicy: number): SlotKey {
    const bits = rsaBitsOf(algorithmId);
    if (bits === undefined) fail(PivStatus.incorrectData);
    const p = bytesToBigInt(parts.p);
    const q = bytesToBigInt(parts.q);
    const n = p * q;
    if (p < 3n || q < 3n || n.toString(2).length !== bits) fail(PivStatus.incorrectData);
    const e = 65537n;
    const lambda = lcm(p - 1n, q - 1n);
    const d = modInverse(e, lambda);
    if (d === undefined) fail(PivStatus.incorrectData);
    const jwk: JsonWebKey = {
      kty: 'RSA',
      n: toBase64Url(n),
      e: toBase64Url(e),
      d: toBase64Url(d),
      p: toBase64Url(p),
      q: toBase64Url(q),
      dp: toBase64Url(bytesToBigInt(parts.dP)),
      dq: toBase64Url(bytesToBigInt(parts.dQ)),
      qi: toBase64Url(bytesToBigInt(parts.qInv)),
    };
    // CRT values that do not belong to p and q would make a real card compute wrong signatures; refuse them.
    const consistent =
      bytesToBigInt(parts.dP) === d % (p - 1n) &&
      bytesToBigInt(parts.dQ) === d % (q - 1n) &&
      bytesToBigInt(parts.qInv) === modInverse(q, p);
    if (!consistent) fail(PivStatus.incorrectData);
    return new SlotKey(algorithmId, createKeySafely(jwk), pinPolicy, touchPolicy, 'imported');
  }

  /** Builds an EC key from its private scalar. */
  static importEc(algorithmId: number, scalar: Uint8Array, pinPolicy: number, touchPolicy: number): SlotKey {
    const info = ALGORITHMS.get(algorithmId);
    if (info?.kind !== 'ec' || scalar.length !== info.fieldLength) fail(PivStatus.incorrectData);
    const d = bytesToBigInt(scalar);
    if (d === 0n || d >= info.order) fail(PivStatus.incorrectData);
    const ecdh = createECDH(info.curve);
    ecdh.setPrivateKey(scalar);
    const point = ecdh.getPublicKey();
    const jwk: JsonWebKey = {
      kty: 'EC',
      crv: info.jwkCurve,
      d: Buffer.from(scalar).toString('base64url'),
      x: point.subarray(1, 1 + info.fieldLength).toString('base64url'),
      y: point.subarray(1 + info.fieldLength).toString('base64url'),
    };
    return new SlotKey(algorithmId, createKeySafely(jwk), pinPolicy, touchPolicy, 'imported');
  }

  /** Restores a key from its persisted form. */
  static fromState(state: SlotKeyState): SlotKey {
    const privateKey = createPrivateKey({ key: Buffer.from(state.privateKey, 'hex'), format: 'der', type: 'pkcs8' });
    return new SlotKey(state.algorithm, privateKey, state.pinPolicy, state.touchPolicy, state.origin);
  }

  /** The persisted form (PKCS#8 private key included: this is the card's own non-volatile memory). */
  toState(): SlotKeyState {
    const der = this.#privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      algorithm: this.algorithmId,
      pinPolicy: this.pinPolicy,
      touchPolicy: this.touchPolicy,
      origin: this.origin,
      privateKey: der.toString('hex'),
    };
  }

  /** True for RSA keys. */
  get isRsa(): boolean {
    return this.#info.kind === 'rsa';
  }

  /** The public key data objects without the 7F49 wrapper: 81 modulus 82 exponent (RSA), or 86 point (EC). */
  publicKeyObjects(): Uint8Array {
    const jwk = createPublicKey(this.#privateKey).export({ format: 'jwk' });
    if (this.#info.kind === 'rsa') {
      return concatBytes(
        encodeTlv(0x81, Buffer.from(jwk.n!, 'base64url')),
        encodeTlv(0x82, Buffer.from(jwk.e!, 'base64url')),
      );
    }
    return encodeTlv(0x86, this.#uncompressedPoint(jwk));
  }

  /** The public key template returned by GENERATE ASYMMETRIC KEY PAIR: 7F49 { ... }. */
  publicKeyTemplate(): Uint8Array {
    return encodeTlv(0x7f49, this.publicKeyObjects());
  }

  /** The public key as node:crypto KeyObject (used by tests and attestation-free metadata). */
  publicKey(): KeyObject {
    return createPublicKey(this.#privateKey);
  }

  /**
   * The raw RSA private operation (signature of a host-padded block, or decryption): input must be exactly
   * the modulus length and numerically below the modulus.
   */
  rsaPrivateOperation(input: Uint8Array): Uint8Array {
    const info = this.#info;
    if (info.kind !== 'rsa') fail(PivStatus.incorrectP1P2);
    if (input.length !== info.bits / 8) fail(PivStatus.incorrectData);
    try {
      return new Uint8Array(
        privateDecrypt({ key: this.#privateKey, padding: cryptoConstants.RSA_NO_PADDING }, Buffer.from(input)),
      );
    } catch {
      // Input >= modulus: the card rejects the data.
      return fail(PivStatus.incorrectData);
    }
  }

  /**
   * ECDSA over a hash the host computed (exactly the field length, as YubiKeys require) with the kit's simulator
   * ECDSA; the answer is the DER SEQUENCE { r, s } a PIV card returns.
   */
  ecdsaSignDigest(digest: Uint8Array): Uint8Array {
    const info = this.#info;
    if (info.kind !== 'ec') fail(PivStatus.incorrectP1P2);
    if (digest.length !== info.fieldLength) fail(PivStatus.incorrectData);
    return ecdsaRawToDer(ecdsaSignDigest(this.#privateKey, info.jwkCurve, digest));
  }

  /** ECDH with a peer's uncompressed point (04 || X || Y): the shared secret's X coordinate. */
  ecdhSharedSecret(peerPoint: Uint8Array): Uint8Array {
    const info = this.#info;
    if (info.kind !== 'ec') fail(PivStatus.incorrectP1P2);
    if (peerPoint.length !== 1 + 2 * info.fieldLength || peerPoint[0] !== 0x04) fail(PivStatus.incorrectData);
    const jwk = this.#privateKey.export({ format: 'jwk' });
    const ecdh = createECDH(info.curve);
    ecdh.setPrivateKey(Buffer.from(jwk.d!, 'base64url'));
    try {
      return new Uint8Array(ecdh.computeSecret(Buffer.from(peerPoint)));
    } catch {
      // Not a point on the curve.
      return fail(PivStatus.incorrectData);
    }
  }

  #uncompressedPoint(jwk: JsonWebKey): Uint8Array {
    return concatBytes(Uint8Array.of(0x04), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
  }
}

function createKeySafely(jwk: JsonWebKey): KeyObject {
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    return fail(PivStatus.incorrectData);
  }
}

function toBase64Url(value: bigint): string {
  return Buffer.from(bigIntToBytes(value)).toString('base64url');
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}
