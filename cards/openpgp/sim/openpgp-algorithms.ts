/**
 * Algorithm attributes C1/C2/C3 (docs/spec/openpgp.md §3.5): parsing, encoding, and the curves this card
 * supports, each with its OID (the legacy OpenPGP-card OIDs for 25519) and the name node:crypto uses.
 */
import { ECDSA_CURVES, type EcdsaCurveName } from '@minidriver/card-kit/sim';
import { CardStatus, OpenPgpStatus } from './openpgp-status.js';

/**
 * A curve the card supports. `order` is set for Weierstrass curves (ECDSA over a host-supplied hash); their
 * `name` is then the kit's {@link EcdsaCurveName}.
 */
export interface CurveInfo {
  readonly name: string;
  readonly oid: Uint8Array;
  /** node:crypto name: an OpenSSL curve for createECDH, or `ed25519` / `x25519`. */
  readonly nodeName: string;
  /** Field element / scalar size in bytes. */
  readonly size: number;
  readonly order?: bigint;
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** A Weierstrass curve: its node name, size and order from the kit's ECDSA table (which signs with it). */
function weierstrass(name: EcdsaCurveName, oid: string): CurveInfo {
  const { nodeName, size, order } = ECDSA_CURVES[name];
  return { name, oid: hex(oid), nodeName, size, order };
}

/** Curves in the order the algorithm information DO (FA) lists them. Orders: SEC 2 / RFC 5639. */
export const CURVES: readonly CurveInfo[] = [
  weierstrass('P-256', '2A8648CE3D030107'),
  weierstrass('P-384', '2B81040022'),
  weierstrass('P-521', '2B81040023'),
  weierstrass('brainpoolP256r1', '2B2403030208010107'),
  weierstrass('brainpoolP384r1', '2B240303020801010B'),
  weierstrass('brainpoolP512r1', '2B240303020801010D'),
  { name: 'Ed25519', oid: hex('2B06010401DA470F01'), nodeName: 'ed25519', size: 32 },
  { name: 'Curve25519', oid: hex('2B060104019755010501'), nodeName: 'x25519', size: 32 },
];

/** OpenPGP public-key algorithm ids used in byte 1 of the attributes. */
export const AlgorithmId = { rsa: 0x01, ecdh: 0x12, ecdsa: 0x13, eddsa: 0x16 } as const;

/** RSA attributes: modulus size, public exponent size (bits) and the key import format. */
export interface RsaAlgorithm {
  readonly kind: 'rsa';
  readonly modulusBits: number;
  readonly exponentBits: number;
  readonly importFormat: number;
}

/** ECC attributes: algorithm id (12 ECDH, 13 ECDSA, 16 EdDSA), the curve, and the trailing format byte. */
export interface EccAlgorithm {
  readonly kind: 'ecc';
  readonly algorithmId: number;
  readonly curve: CurveInfo;
  readonly importWithPublicKey: boolean;
}

export type KeyAlgorithm = RsaAlgorithm | EccAlgorithm;

/** The key slots in C1/C2/C3 order. */
export type KeySlot = 0 | 1 | 2;
export const SIGNATURE_SLOT: KeySlot = 0;
export const DECRYPTION_SLOT: KeySlot = 1;
export const AUTHENTICATION_SLOT: KeySlot = 2;

const RSA_SIZES = [2048, 3072, 4096];

function findCurve(oid: Uint8Array): CurveInfo | undefined {
  return CURVES.find((curve) => Buffer.from(curve.oid).equals(Buffer.from(oid)));
}

/**
 * Parses C1/C2/C3 for `slot`; throws `6A80` for anything this card cannot do (unknown curve, RSA size
 * other than 2048/3072/4096, an ECDH curve in a signing slot, ...).
 */
export function parseAlgorithmAttributes(attributes: Uint8Array, slot: KeySlot): KeyAlgorithm {
  const algorithmId = attributes[0];
  if (algorithmId === AlgorithmId.rsa) {
    if (attributes.length < 5 || attributes.length > 6) throw new CardStatus(OpenPgpStatus.incorrectData);
    const modulusBits = (attributes[1]! << 8) | attributes[2]!;
    const exponentBits = (attributes[3]! << 8) | attributes[4]!;
    const importFormat = attributes[5] ?? 0;
    if (!RSA_SIZES.includes(modulusBits) || exponentBits < 17 || exponentBits > 32 || importFormat > 3) {
      throw new CardStatus(OpenPgpStatus.incorrectData);
    }
    return { kind: 'rsa', modulusBits, exponentBits, importFormat };
  }
  if (algorithmId === AlgorithmId.ecdh || algorithmId === AlgorithmId.ecdsa || algorithmId === AlgorithmId.eddsa) {
    let oid = attributes.subarray(1);
    let importWithPublicKey = false;
    let curve = findCurve(oid);
    const last = attributes[attributes.length - 1];
    if (!curve && (last === 0x00 || last === 0xff)) {
      oid = attributes.subarray(1, attributes.length - 1);
      importWithPublicKey = last === 0xff;
      curve = findCurve(oid);
    }
    if (!curve) throw new CardStatus(OpenPgpStatus.incorrectData);
    const isEdwards = curve.nodeName === 'ed25519';
    const isMontgomery = curve.nodeName === 'x25519';
    const valid =
      algorithmId === AlgorithmId.ecdh
        ? slot !== SIGNATURE_SLOT && !isEdwards
        : algorithmId === AlgorithmId.eddsa
          ? isEdwards && slot !== DECRYPTION_SLOT
          : !isEdwards && !isMontgomery && slot !== DECRYPTION_SLOT;
    if (!valid) throw new CardStatus(OpenPgpStatus.incorrectData);
    return { kind: 'ecc', algorithmId, curve, importWithPublicKey };
  }
  throw new CardStatus(OpenPgpStatus.incorrectData);
}

/** RSA attributes bytes: `01 | n bits | e bits | format`. */
export function encodeRsaAttributes(modulusBits: number, exponentBits = 32, importFormat = 0): Uint8Array {
  return Uint8Array.of(
    0x01,
    modulusBits >> 8,
    modulusBits & 0xff,
    exponentBits >> 8,
    exponentBits & 0xff,
    importFormat,
  );
}

/** ECC attributes bytes: `alg | OID`. */
export function encodeEccAttributes(algorithmId: number, curveName: string): Uint8Array {
  const curve = CURVES.find((candidate) => candidate.name === curveName);
  if (!curve) throw new RangeError(`unknown curve ${curveName}`);
  return Uint8Array.of(algorithmId, ...curve.oid);
}

/** Every attribute value the card accepts per slot (DO FA, algorithm information). */
export function supportedAttributes(slot: KeySlot): Uint8Array[] {
  const list = RSA_SIZES.map((bits) => encodeRsaAttributes(bits));
  for (const curve of CURVES) {
    if (curve.nodeName === 'ed25519') {
      if (slot !== DECRYPTION_SLOT) list.push(encodeEccAttributes(AlgorithmId.eddsa, curve.name));
    } else if (curve.nodeName === 'x25519') {
      if (slot === DECRYPTION_SLOT) list.push(encodeEccAttributes(AlgorithmId.ecdh, curve.name));
    } else {
      list.push(encodeEccAttributes(slot === DECRYPTION_SLOT ? AlgorithmId.ecdh : AlgorithmId.ecdsa, curve.name));
    }
  }
  return list;
}
