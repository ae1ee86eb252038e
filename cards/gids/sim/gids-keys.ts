/**
 * @packageDocumentation
 * The asymmetric keys a GIDS key file holds and the operations the card performs with them (docs/spec/gids.md
 * docs/spec/gids.md §4.3, §5.2): generation for a cryptographic mechanism identifier, import of an RSA key (PKCS #1
 * RSAPrivateKey) or an EC key (RFC 5915 ECPrivateKey, our reading: no public source gives GIDS's EC import
 * format), the public key template `7F49`, signature, decipherment and ECDH. Cryptography is real
 * (node:crypto); ECDSA over a host-computed hash is done with bigint arithmetic because node:crypto only signs
 * messages it hashes itself.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  constants as cryptoConstants,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { encodeTlv } from '@minidriver/iso7816';
import { fail, GidsStatus } from './gids-status.js';

/** What a mechanism identifier (low nibble of an algorithm reference) designates. */
export type MechanismInfo =
  | { readonly kind: 'rsa'; readonly bits: number }
  | {
      readonly kind: 'ec';
      readonly bits: number;
      readonly curve: string;
      readonly fieldLength: number;
      readonly order: bigint;
    };

const MECHANISMS: ReadonlyMap<number, MechanismInfo> = new Map<number, MechanismInfo>([
  [0x06, { kind: 'rsa', bits: 1024 }],
  [0x07, { kind: 'rsa', bits: 2048 }],
  [0x08, { kind: 'rsa', bits: 3072 }],
  [0x09, { kind: 'rsa', bits: 4096 }],
  [
    0x0b,
    {
      kind: 'ec',
      bits: 224,
      curve: 'secp224r1',
      fieldLength: 28,
      order: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn,
    },
  ],
  [
    0x0c,
    {
      kind: 'ec',
      bits: 256,
      curve: 'prime256v1',
      fieldLength: 32,
      order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    },
  ],
  [
    0x0d,
    {
      kind: 'ec',
      bits: 384,
      curve: 'secp384r1',
      fieldLength: 48,
      order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    },
  ],
  [
    0x0e,
    {
      kind: 'ec',
      bits: 521,
      curve: 'secp521r1',
      fieldLength: 66,
      order:
        0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    },
  ],
]);

/** The mechanism a mechanism identifier designates, or undefined. */
export function mechanismInfo(mechanism: number): MechanismInfo | undefined {
  return MECHANISMS.get(mechanism);
}

/** The persisted form of a key. */
export interface GidsKeyState {
  readonly mechanism: number;
  /** PKCS #8 DER, hex (the card's own non-volatile memory). */
  readonly privateKey: string;
}

/** An asymmetric private key inside a key file. */
export class GidsKey {
  readonly mechanism: number;
  readonly info: MechanismInfo;
  readonly #privateKey: KeyObject;

  private constructor(mechanism: number, info: MechanismInfo, privateKey: KeyObject) {
    this.mechanism = mechanism;
    this.info = info;
    this.#privateKey = privateKey;
  }

  /** GENERATE ASYMMETRIC KEY PAIR for `mechanism` (6A80 when the card does not know it). */
  static generate(mechanism: number, rsaSizes: readonly number[]): GidsKey {
    const info = requireMechanism(mechanism, rsaSizes);
    const pair =
      info.kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: info.bits, publicExponent: 65537 })
        : generateKeyPairSync('ec', { namedCurve: info.curve });
    return new GidsKey(mechanism, info, pair.privateKey);
  }

  /**
   * Imports a key value (the content of tag `87`): a PKCS #1 RSAPrivateKey with every CRT parameter, or an
   * RFC 5915 ECPrivateKey with its curve. The key must be of a mechanism the card supports.
   */
  static import(keyValue: Uint8Array, rsaSizes: readonly number[]): GidsKey {
    const der = Buffer.from(keyValue);
    let privateKey: KeyObject | undefined;
    for (const type of ['pkcs1', 'sec1'] as const) {
      try {
        privateKey = createPrivateKey({ key: der, format: 'der', type });
        break;
      } catch {
        // Try the next format.
      }
    }
    if (privateKey === undefined) return fail(GidsStatus.incorrectData);
    const mechanism = mechanismOfKey(privateKey);
    if (mechanism === undefined) return fail(GidsStatus.incorrectData);
    const info = requireMechanism(mechanism, rsaSizes);
    if (info.kind === 'rsa' && !rsaKeyConsistent(privateKey)) fail(GidsStatus.incorrectData);
    return new GidsKey(mechanism, info, privateKey);
  }

  /** Restores a persisted key. */
  static fromState(state: GidsKeyState): GidsKey {
    const info = MECHANISMS.get(state.mechanism);
    if (info === undefined) throw new Error(`unknown mechanism ${state.mechanism}`);
    const key = createPrivateKey({ key: Buffer.from(state.privateKey, 'hex'), format: 'der', type: 'pkcs8' });
    if (mechanismOfKey(key) !== state.mechanism) throw new Error('key does not match its mechanism');
    return new GidsKey(state.mechanism, info, key);
  }

  /** The persisted form. */
  toState(): GidsKeyState {
    return {
      mechanism: this.mechanism,
      privateKey: this.#privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
    };
  }

  /** The public key (for tests). */
  publicKey(): KeyObject {
    return createPublicKey(this.#privateKey);
  }

  /** `7F49 { 81 modulus 82 exponent }` (RSA) or `7F49 { 86 04||X||Y }` (EC). */
  publicKeyTemplate(): Uint8Array {
    const jwk = createPublicKey(this.#privateKey).export({ format: 'jwk' });
    if (this.info.kind === 'rsa') {
      return encodeTlv(0x7f49, [
        { tag: 0x81, constructed: false, value: Buffer.from(jwk.n as string, 'base64url') },
        { tag: 0x82, constructed: false, value: Buffer.from(jwk.e as string, 'base64url') },
      ]);
    }
    const point = Buffer.concat([
      Buffer.of(0x04),
      Buffer.from(jwk.x as string, 'base64url'),
      Buffer.from(jwk.y as string, 'base64url'),
    ]);
    return encodeTlv(0x7f49, [{ tag: 0x86, constructed: false, value: point }]);
  }

  /** The raw RSA private operation on a block of exactly the modulus length, numerically below the modulus. */
  rsaRaw(block: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa' || block.length !== this.info.bits / 8) return fail(GidsStatus.incorrectData);
    try {
      return new Uint8Array(
        privateDecrypt({ key: this.#privateKey, padding: cryptoConstants.RSA_NO_PADDING }, Buffer.from(block)),
      );
    } catch {
      return fail(GidsStatus.incorrectData);
    }
  }

  /** RSASSA-PKCS1-v1_5 with the card's padding: `data` (a DigestInfo) is padded as a type 01 block. */
  rsaSignPkcs1(data: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa') return fail(GidsStatus.incorrectData);
    const length = this.info.bits / 8;
    if (data.length > length - 11) return fail(GidsStatus.wrongLength);
    const block = new Uint8Array(length);
    block[1] = 0x01;
    block.fill(0xff, 2, length - data.length - 1);
    block.set(data, length - data.length);
    return this.rsaRaw(block);
  }

  /** RSAES-PKCS1-v1_5 decipherment: the type 02 padding is removed on the card (6A80 when it is wrong). */
  rsaDecryptPkcs1(ciphertext: Uint8Array): Uint8Array {
    const block = this.rsaRaw(ciphertext);
    if (block[0] !== 0x00 || block[1] !== 0x02) return fail(GidsStatus.incorrectData);
    const separator = block.indexOf(0x00, 2);
    if (separator < 10) return fail(GidsStatus.incorrectData);
    return block.slice(separator + 1);
  }

  /** RSAES-OAEP (SHA-1, empty label) decipherment. */
  rsaDecryptOaep(ciphertext: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa' || ciphertext.length !== this.info.bits / 8) return fail(GidsStatus.incorrectData);
    try {
      return new Uint8Array(
        privateDecrypt(
          { key: this.#privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          Buffer.from(ciphertext),
        ),
      );
    } catch {
      return fail(GidsStatus.incorrectData);
    }
  }

  /**
   * ECDSA over a hash computed by the host: the hash is truncated or left-padded to the order's length as
   * FIPS 186-4 says; the answer is r || s, each the field length (ISO/IEC 7816-8 plain format).
   */
  ecdsaSign(hash: Uint8Array): Uint8Array {
    const info = this.info;
    if (info.kind !== 'ec' || hash.length === 0 || hash.length > 64) return fail(GidsStatus.incorrectData);
    const d = bytesToBigInt(Buffer.from(this.#privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
    const n = info.order;
    const orderBits = n.toString(2).length;
    let e = bytesToBigInt(hash);
    if (hash.length * 8 > orderBits) e >>= BigInt(hash.length * 8 - orderBits);
    for (;;) {
      const k = bytesToBigInt(randomBytes(info.fieldLength)) % n;
      if (k === 0n) continue;
      const ecdh = createECDH(info.curve);
      ecdh.setPrivateKey(bigIntToBytes(k, info.fieldLength));
      const r = bytesToBigInt(ecdh.getPublicKey().subarray(1, 1 + info.fieldLength)) % n;
      if (r === 0n) continue;
      const s = (invertModulo(k, n) * ((e + r * d) % n)) % n;
      if (s === 0n) continue;
      return Buffer.concat([bigIntToBytes(r, info.fieldLength), bigIntToBytes(s, info.fieldLength)]);
    }
  }

  /** ECDH with the peer's uncompressed point `04 || X || Y`: the X coordinate of the shared point. */
  ecdh(peerPoint: Uint8Array): Uint8Array {
    const info = this.info;
    if (info.kind !== 'ec' || peerPoint.length !== 1 + 2 * info.fieldLength || peerPoint[0] !== 0x04) {
      return fail(GidsStatus.incorrectData);
    }
    const ecdh = createECDH(info.curve);
    ecdh.setPrivateKey(Buffer.from(this.#privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
    try {
      return new Uint8Array(ecdh.computeSecret(Buffer.from(peerPoint)));
    } catch {
      return fail(GidsStatus.incorrectData);
    }
  }
}

function requireMechanism(mechanism: number, rsaSizes: readonly number[]): MechanismInfo {
  const info = MECHANISMS.get(mechanism);
  if (info === undefined || (info.kind === 'rsa' && !rsaSizes.includes(info.bits))) {
    return fail(GidsStatus.incorrectData);
  }
  return info;
}

function mechanismOfKey(key: KeyObject): number | undefined {
  const details = key.asymmetricKeyDetails;
  for (const [mechanism, info] of MECHANISMS) {
    if (key.asymmetricKeyType === 'rsa' && info.kind === 'rsa' && details?.modulusLength === info.bits) {
      return mechanism;
    }
    if (key.asymmetricKeyType === 'ec' && info.kind === 'ec' && details?.namedCurve === info.curve) return mechanism;
  }
  return undefined;
}

/** p·q = n and d·e ≡ 1 on the CRT halves: a key whose parts do not belong together is refused. */
function rsaKeyConsistent(key: KeyObject): boolean {
  const jwk = key.export({ format: 'jwk' });
  const part = (name: string) => bytesToBigInt(Buffer.from((jwk as Record<string, string>)[name] ?? '', 'base64url'));
  const [n, e, d, p, q, dp, dq, qi] = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map(part) as bigint[];
  if (p === undefined || q === undefined || p < 3n || q < 3n) return false;
  return (
    p * q === n &&
    dp === (d as bigint) % (p - 1n) &&
    dq === (d as bigint) % (q - 1n) &&
    ((qi as bigint) * q) % p === 1n &&
    ((e as bigint) * (dp as bigint)) % (p - 1n) === 1n
  );
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function bigIntToBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function invertModulo(value: bigint, modulus: bigint): bigint {
  let [r0, r1] = [value % modulus, modulus];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1] = [r1, r0 - quotient * r1];
    [s0, s1] = [s1, s0 - quotient * s1];
  }
  return ((s0 % modulus) + modulus) % modulus;
}
