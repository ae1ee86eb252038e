/**
 * @module The keys of a container: which key spec an `--alg`/`--usage` means, reading a container's
 * public key, and signing a hash with it (turning the minidriver's byte orders into the usual ones).
 */
import { createHash, type KeyObject } from 'node:crypto';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  type CardSession,
  type CertificateFileKind,
  ecdsaRawToDer,
  KeySpec,
  keyBlobInfo,
  type PinId,
  publicKeyBlobToKeyObject,
  reverseBytes,
  ScardError,
} from '@minidriver/core';
import { UsageError } from '../parse/usage-error.js';

/** `--alg` values. */
export const KEY_ALGORITHMS = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** The CardCreateContainer parameters for an algorithm and usage (ECC key specs carry their size: dwKeySize 0). */
export function keySpecFor(algorithm: string, usage: string | undefined): { keySpec: number; keySize: number } {
  if (usage !== undefined && usage !== 'sign' && usage !== 'exchange')
    throw new UsageError('--usage must be sign or exchange');
  switch (algorithm) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      return {
        keySpec: usage === 'sign' ? KeySpec.AT_SIGNATURE : KeySpec.AT_KEYEXCHANGE,
        keySize: Number(algorithm.slice(3)),
      };
    case 'p256':
      return { keySpec: usage === 'exchange' ? KeySpec.AT_ECDHE_P256 : KeySpec.AT_ECDSA_P256, keySize: 0 };
    case 'p384':
      return { keySpec: usage === 'exchange' ? KeySpec.AT_ECDHE_P384 : KeySpec.AT_ECDSA_P384, keySize: 0 };
    default:
      throw new UsageError(`--alg must be one of ${KEY_ALGORITHMS.join(', ')}`);
  }
}

/**
 * Generates a key pair of `algorithm` in container `index` and returns the key spec it went in as.
 * With `usage` given, exactly that key spec. Without it, the algorithm's default usage (RSA exchange, EC
 * sign) first; when the card answers SCARD_E_INVALID_PARAMETER — the container takes only the other
 * usage (an OpenPGP signature slot takes no AT_KEYEXCHANGE key) — the other usage once. The contract has
 * no property naming a container's allowed key specs before a key exists, so the card's answer decides.
 */
export async function generateContainerKey(
  session: CardSession,
  index: number,
  algorithm: string,
  usage: string | undefined,
  pinId?: PinId,
): Promise<number> {
  const create = (keySpec: number, keySize: number) =>
    pinId === undefined
      ? session.createContainer(index, CARD_CREATE_CONTAINER_KEY_GEN, keySpec, keySize)
      : session.createContainerEx(index, CARD_CREATE_CONTAINER_KEY_GEN, keySpec, keySize, undefined, pinId);
  const first = keySpecFor(algorithm, usage);
  try {
    await create(first.keySpec, first.keySize);
    return first.keySpec;
  } catch (error) {
    // The container takes only the other usage: the card says INVALID_PARAMETER (OpenPGP) or
    // UNSUPPORTED_FEATURE (a PIV slot whose half is fixed).
    const otherUsageOnly =
      ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER') ||
      ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE');
    if (usage !== undefined || !otherUsageOnly) throw error;
  }
  const defaultUsage = first.keySpec === KeySpec.AT_KEYEXCHANGE || isEcdhKeySpec(first.keySpec) ? 'exchange' : 'sign';
  const other = keySpecFor(algorithm, defaultUsage === 'sign' ? 'exchange' : 'sign');
  await create(other.keySpec, other.keySize);
  return other.keySpec;
}

function isEcdhKeySpec(keySpec: number): boolean {
  return keySpec === KeySpec.AT_ECDHE_P256 || keySpec === KeySpec.AT_ECDHE_P384 || keySpec === KeySpec.AT_ECDHE_P521;
}

/** A public key of a container. */
export interface ContainerKey {
  readonly keySpec: number;
  /** The certificate file kind that goes with it (`ksc` signature, `kxc` key exchange). */
  readonly certificateKind: CertificateFileKind;
  readonly algorithm: 'RSA' | 'ECDSA' | 'ECDH';
  readonly bits: number;
  readonly publicKey: KeyObject;
}

function ecdsaKeySpec(bits: number): number {
  return bits === 384 ? KeySpec.AT_ECDSA_P384 : bits === 521 ? KeySpec.AT_ECDSA_P521 : KeySpec.AT_ECDSA_P256;
}

function ecdhKeySpec(bits: number): number {
  return bits === 384 ? KeySpec.AT_ECDHE_P384 : bits === 521 ? KeySpec.AT_ECDHE_P521 : KeySpec.AT_ECDHE_P256;
}

/** The keys of container `index` (signature key first). */
export async function containerKeys(session: CardSession, index: number): Promise<ContainerKey[]> {
  const info = await session.getContainerInfo(index);
  const keys: ContainerKey[] = [];
  for (const [blob, half] of [
    [info.signaturePublicKey, 'signature'],
    [info.keyExchangePublicKey, 'exchange'],
  ] as const) {
    if (!blob) continue;
    const { algorithm, bits } = keyBlobInfo(blob);
    const keySpec =
      algorithm === 'RSA'
        ? half === 'signature'
          ? KeySpec.AT_SIGNATURE
          : KeySpec.AT_KEYEXCHANGE
        : algorithm === 'ECDSA'
          ? ecdsaKeySpec(bits)
          : ecdhKeySpec(bits);
    keys.push({
      keySpec,
      certificateKind: half === 'signature' ? 'ksc' : 'kxc',
      algorithm,
      bits,
      publicKey: publicKeyBlobToKeyObject(blob),
    });
  }
  return keys;
}

/** The key of container `index` that can sign (RSA of either half, or ECDSA). */
export async function signingKey(session: CardSession, index: number): Promise<ContainerKey> {
  const keys = await containerKeys(session, index);
  const key = keys.find((candidate) => candidate.algorithm !== 'ECDH');
  if (!key) throw new UsageError(`container ${index} has no key that can sign`);
  return key;
}

/** Hash names as CARD_SIGNING_INFO's padding info spells them. */
const PADDING_HASH_NAMES: Readonly<Record<string, string>> = { sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };

/**
 * Signs `hash` with `key`: RSA PKCS #1 v1.5 (or PSS with a salt as long as the hash) → big-endian
 * signature; ECDSA → raw `r || s`.
 */
export async function signHash(
  session: CardSession,
  containerIndex: number,
  key: ContainerKey,
  hash: Uint8Array,
  hashName: string,
  options: { readonly pss?: boolean } = {},
): Promise<Uint8Array> {
  const algorithm = PADDING_HASH_NAMES[hashName];
  if (algorithm === undefined) throw new UsageError('--hash must be sha256, sha384 or sha512');
  const { signature } = await session.signData({
    version: 2,
    containerIndex,
    keySpec: key.keySpec,
    signingFlags: CARD_PADDING_INFO_PRESENT,
    hashAlgorithmId: 0,
    data: hash,
    paddingType: options.pss ? CARD_PADDING_PSS : CARD_PADDING_PKCS1,
    paddingInfo: options.pss ? { algorithm, saltLength: hash.length } : { algorithm },
  });
  if (!signature) throw new UsageError('the card returned no signature');
  // The minidriver returns RSA signatures little-endian (CryptoAPI order); ECDSA r || s is big-endian.
  return key.algorithm === 'RSA' ? reverseBytes(signature) : signature;
}

/**
 * A {@link signHash} for X.509 (createSelfSignedCertificate's `sign`): SHA-256 of the tbsCertificate, RSA
 * PKCS #1 v1.5, ECDSA as DER `Ecdsa-Sig-Value` (RFC 5480), which is what a certificate's signature holds.
 */
export function certificateSigner(
  session: CardSession,
  containerIndex: number,
  key: ContainerKey,
): (tbsCertificate: Uint8Array) => Promise<Uint8Array> {
  return async (tbsCertificate) => {
    const sha256 = new Uint8Array(createHash('sha256').update(tbsCertificate).digest());
    const signature = await signHash(session, containerIndex, key, sha256, 'sha256');
    return key.algorithm === 'RSA' ? signature : ecdsaRawToDer(signature);
  };
}
