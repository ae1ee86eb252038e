/**
 * @packageDocumentation
 * The asymmetric keys a GIDS key file holds and the operations the card performs with them (docs/spec/gids.md
 * docs/spec/gids.md §4.3, §5.2): generation for a cryptographic mechanism identifier, import of an RSA key (PKCS #1
 * RSAPrivateKey) or an EC key (RFC 5915 ECPrivateKey, our reading: no public source gives GIDS's EC import
 * format), the public key template `7F49`, signature, decipherment and ECDH. Cryptography is real
 * (node:crypto); ECDSA over a host-computed hash is @minidriver/card-kit/sim's (node:crypto only signs messages it
 * hashes itself).
 */
import {
  createPrivateKey,
  createPublicKey,
  constants as cryptoConstants,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
} from 'node:crypto';
import { bytesToBigInt, ECDSA_CURVES, type EcdsaCurveName, ecdsaSignDigest, failWith } from '@minidriver/card-kit/sim';
import { encodeTlv, SW } from '@minidriver/iso7816';

/** What a mechanism identifier (low nibble of an algorithm reference) designates. */
export type MechanismInfo =
  | { readonly kind: 'rsa'; readonly bits: number }
  | {
      readonly kind: 'ec';
      readonly bits: number;
      /** The curve's name in @minidriver/card-kit/sim (ECDSA over a host hash). */
      readonly name: EcdsaCurveName;
      /** node:crypto's name of the curve. */
      readonly curve: string;
      readonly fieldLength: number;
    };

function ecMechanism(name: EcdsaCurveName): MechanismInfo {
  const { nodeName, size } = ECDSA_CURVES[name];
  return { kind: 'ec', bits: Number(name.slice(2)), name, curve: nodeName, fieldLength: size };
}

const MECHANISMS: ReadonlyMap<number, MechanismInfo> = new Map<number, MechanismInfo>([
  [0x06, { kind: 'rsa', bits: 1024 }],
  [0x07, { kind: 'rsa', bits: 2048 }],
  [0x08, { kind: 'rsa', bits: 3072 }],
  [0x09, { kind: 'rsa', bits: 4096 }],
  [0x0b, ecMechanism('P-224')],
  [0x0c, ecMechanism('P-256')],
  [0x0d, ecMechanism('P-384')],
  [0x0e, ecMechanism('P-521')],
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
    if (privateKey === undefined) return failWith(SW.INCORRECT_DATA);
    const mechanism = mechanismOfKey(privateKey);
    if (mechanism === undefined) return failWith(SW.INCORRECT_DATA);
    const info = requireMechanism(mechanism, rsaSizes);
    if (info.kind === 'rsa' && !rsaKeyConsistent(privateKey)) failWith(SW.INCORRECT_DATA);
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
    const info = this.info;
    if (info.kind === 'rsa') {
      const jwk = createPublicKey(this.#privateKey).export({ format: 'jwk' });
      return encodeTlv(0x7f49, [
        { tag: 0x81, constructed: false, value: Buffer.from(jwk.n as string, 'base64url') },
        { tag: 0x82, constructed: false, value: Buffer.from(jwk.e as string, 'base64url') },
      ]);
    }
    // The uncompressed point ends the SubjectPublicKeyInfo (node:crypto has no JWK form of every curve).
    const spki = this.#spki();
    return encodeTlv(0x7f49, [
      { tag: 0x86, constructed: false, value: spki.subarray(spki.length - 1 - 2 * info.fieldLength) },
    ]);
  }

  #spki(): Uint8Array {
    return new Uint8Array(createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' }));
  }

  /** The raw RSA private operation on a block of exactly the modulus length, numerically below the modulus. */
  rsaRaw(block: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa' || block.length !== this.info.bits / 8) return failWith(SW.INCORRECT_DATA);
    try {
      return new Uint8Array(
        privateDecrypt({ key: this.#privateKey, padding: cryptoConstants.RSA_NO_PADDING }, Buffer.from(block)),
      );
    } catch {
      return failWith(SW.INCORRECT_DATA);
    }
  }

  /** RSASSA-PKCS1-v1_5 with the card's padding: `data` (a DigestInfo) is padded as a type 01 block. */
  rsaSignPkcs1(data: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa') return failWith(SW.INCORRECT_DATA);
    const length = this.info.bits / 8;
    if (data.length > length - 11) return failWith(SW.WRONG_LENGTH);
    const block = new Uint8Array(length);
    block[1] = 0x01;
    block.fill(0xff, 2, length - data.length - 1);
    block.set(data, length - data.length);
    return this.rsaRaw(block);
  }

  /** RSAES-PKCS1-v1_5 decipherment: the type 02 padding is removed on the card (6A80 when it is wrong). */
  rsaDecryptPkcs1(ciphertext: Uint8Array): Uint8Array {
    const block = this.rsaRaw(ciphertext);
    if (block[0] !== 0x00 || block[1] !== 0x02) return failWith(SW.INCORRECT_DATA);
    const separator = block.indexOf(0x00, 2);
    if (separator < 10) return failWith(SW.INCORRECT_DATA);
    return block.slice(separator + 1);
  }

  /** RSAES-OAEP (SHA-1, empty label) decipherment. */
  rsaDecryptOaep(ciphertext: Uint8Array): Uint8Array {
    if (this.info.kind !== 'rsa' || ciphertext.length !== this.info.bits / 8) return failWith(SW.INCORRECT_DATA);
    try {
      return new Uint8Array(
        privateDecrypt(
          { key: this.#privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          Buffer.from(ciphertext),
        ),
      );
    } catch {
      return failWith(SW.INCORRECT_DATA);
    }
  }

  /**
   * ECDSA over a hash computed by the host (truncated to the order's length as FIPS 186 says; at most 64
   * bytes, SHA-512): `r ‖ s`, each the field length (ISO/IEC 7816-8 plain format).
   */
  ecdsaSign(hash: Uint8Array): Uint8Array {
    const info = this.info;
    if (info.kind !== 'ec' || hash.length === 0 || hash.length > 64) return failWith(SW.INCORRECT_DATA);
    return ecdsaSignDigest(this.#privateKey, info.name, hash);
  }

  /** ECDH with the peer's uncompressed point `04 || X || Y`: the X coordinate of the shared point. */
  ecdh(peerPoint: Uint8Array): Uint8Array {
    const info = this.info;
    if (info.kind !== 'ec' || peerPoint.length !== 1 + 2 * info.fieldLength || peerPoint[0] !== 0x04) {
      return failWith(SW.INCORRECT_DATA);
    }
    // The peer's SubjectPublicKeyInfo: ours with the peer's point (same curve, same prefix).
    const own = this.#spki();
    const peer = Buffer.concat([own.subarray(0, own.length - peerPoint.length), peerPoint]);
    try {
      const publicKey = createPublicKey({ key: peer, format: 'der', type: 'spki' });
      return new Uint8Array(diffieHellman({ privateKey: this.#privateKey, publicKey }));
    } catch {
      return failWith(SW.INCORRECT_DATA);
    }
  }
}

function requireMechanism(mechanism: number, rsaSizes: readonly number[]): MechanismInfo {
  const info = MECHANISMS.get(mechanism);
  if (info === undefined || (info.kind === 'rsa' && !rsaSizes.includes(info.bits))) {
    return failWith(SW.INCORRECT_DATA);
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
