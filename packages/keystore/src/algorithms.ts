/**
 * @packageDocumentation
 * Key algorithms as applications name them (`rsa2048`, `p256`, or `{ type: 'ec', curve: 'P-384' }`), the
 * usages each key allows, and the mapping to and from the minidriver's key specs (docs/spec/minidriver.md
 * docs/spec/minidriver.md §3.1: AT_KEYEXCHANGE / AT_SIGNATURE for RSA, AT_ECDSA_* for the signature half, AT_ECDHE_* for the key
 * exchange half of a container).
 */
import { KeySpec, ScardError } from '@minidriver/spec';
import { describeValue } from './options.js';

/** The elliptic curves a card key can be on. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** An RSA key of `bits` (1024, 2048, 3072 or 4096). */
export interface RsaAlgorithm {
  readonly type: 'rsa';
  readonly bits: number;
}

/** An elliptic curve key on `curve`; `bits` is the curve size (256, 384, 521). */
export interface EcAlgorithm {
  readonly type: 'ec';
  readonly curve: EcCurve;
  readonly bits: number;
}

/** The algorithm of a key, as `Key.algorithm` reports it and `Token.generateKey` takes it. */
export type KeyAlgorithm = RsaAlgorithm | EcAlgorithm;

/** Short algorithm names accepted wherever a {@link KeyAlgorithm} is. */
export type KeyAlgorithmName = 'rsa1024' | 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384' | 'p521';

/** What a key may be used for. */
export type KeyUsage = 'sign' | 'decrypt' | 'derive';

/** Every {@link KeyAlgorithmName}, in order. */
export const KEY_ALGORITHM_NAMES: readonly KeyAlgorithmName[] = [
  'rsa1024',
  'rsa2048',
  'rsa3072',
  'rsa4096',
  'p256',
  'p384',
  'p521',
];

const RSA_SIZES: readonly number[] = [1024, 2048, 3072, 4096];
const CURVE_BITS: Readonly<Record<EcCurve, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };
const CURVE_OF_BITS: Readonly<Record<number, EcCurve>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

/** The curve of `bits`, or undefined. */
export function curveOfBits(bits: number): EcCurve | undefined {
  return Object.hasOwn(CURVE_OF_BITS, bits) ? CURVE_OF_BITS[bits] : undefined;
}

/**
 * A {@link KeyAlgorithm} from a name or an object. Anything else (unknown name, RSA size outside
 * 1024/2048/3072/4096, unknown curve, extra members) → SCARD_E_INVALID_PARAMETER.
 */
export function parseKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (typeof value === 'string') {
    const rsa = /^rsa(\d{4})$/.exec(value);
    if (rsa && RSA_SIZES.includes(Number(rsa[1]))) return { type: 'rsa', bits: Number(rsa[1]) };
    const ec = /^p(256|384|521)$/.exec(value);
    if (ec) return { type: 'ec', curve: CURVE_OF_BITS[Number(ec[1])] as EcCurve, bits: Number(ec[1]) };
    return invalid(`unknown key algorithm "${value.slice(0, 32)}" (use ${KEY_ALGORITHM_NAMES.join(', ')})`);
  }
  if (value === null || typeof value !== 'object') return invalid('the key algorithm is missing');
  const record = value as Record<string, unknown>;
  if (record['type'] === 'rsa') {
    for (const key of Object.keys(record)) if (key !== 'type' && key !== 'bits') invalid(`unknown member "${key}"`);
    const bits = record['bits'];
    if (typeof bits !== 'number' || !RSA_SIZES.includes(bits)) {
      return invalid(`RSA key size ${describeValue(bits)} is not one of ${RSA_SIZES.join(', ')}`);
    }
    return { type: 'rsa', bits };
  }
  if (record['type'] === 'ec') {
    for (const key of Object.keys(record)) {
      if (key !== 'type' && key !== 'curve' && key !== 'bits') invalid(`unknown member "${key}"`);
    }
    const curve = record['curve'];
    if (typeof curve !== 'string' || !Object.hasOwn(CURVE_BITS, curve)) {
      return invalid(`unknown curve ${describeValue(curve, 16)} (use P-256, P-384 or P-521)`);
    }
    const bits = CURVE_BITS[curve as EcCurve];
    if (record['bits'] !== undefined && record['bits'] !== bits) invalid(`${curve} has ${bits} bits`);
    return { type: 'ec', curve: curve as EcCurve, bits };
  }
  return invalid(`unknown key algorithm type ${describeValue(record['type'], 16)} (use "rsa" or "ec")`);
}

/** The short name of an algorithm (`rsa2048`, `p256`). */
export function algorithmName(algorithm: KeyAlgorithm): string {
  return algorithm.type === 'rsa' ? `rsa${algorithm.bits}` : `p${algorithm.bits}`;
}

/** The usages of the key a key spec holds: AT_KEYEXCHANGE signs and decrypts, AT_SIGNATURE and ECDSA sign, ECDH derives. */
export function usagesOfKeySpec(keySpec: number): readonly KeyUsage[] {
  if (keySpec === KeySpec.AT_KEYEXCHANGE) return ['sign', 'decrypt'];
  if (keySpec === KeySpec.AT_SIGNATURE) return ['sign'];
  if (keySpec >= KeySpec.AT_ECDSA_P256 && keySpec <= KeySpec.AT_ECDSA_P521) return ['sign'];
  if (keySpec >= KeySpec.AT_ECDHE_P256 && keySpec <= KeySpec.AT_ECDHE_P521) return ['derive'];
  return [];
}

/**
 * The key spec (and CardCreateContainer's dwKeySize) for generating `algorithm` for `usage`: RSA → AT_SIGNATURE
 * for 'sign', AT_KEYEXCHANGE otherwise (it signs and decrypts); EC → AT_ECDHE_* for 'derive', AT_ECDSA_*
 * otherwise. RSA with 'derive', or EC with 'decrypt' → SCARD_E_INVALID_PARAMETER.
 */
export function keySpecFor(algorithm: KeyAlgorithm, usage: KeyUsage): { keySpec: number; keySize: number } {
  if (algorithm.type === 'rsa') {
    if (usage === 'derive') invalid('an RSA key cannot derive (ECDH keys do)');
    return { keySpec: usage === 'sign' ? KeySpec.AT_SIGNATURE : KeySpec.AT_KEYEXCHANGE, keySize: algorithm.bits };
  }
  if (usage === 'decrypt') invalid('an EC key cannot decrypt (use ECDH: usage "derive")');
  const offset = algorithm.bits === 256 ? 0 : algorithm.bits === 384 ? 1 : 2;
  return {
    keySpec: (usage === 'derive' ? KeySpec.AT_ECDHE_P256 : KeySpec.AT_ECDSA_P256) + offset,
    keySize: 0,
  };
}
