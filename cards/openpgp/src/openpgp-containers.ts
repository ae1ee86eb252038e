/**
 * Keys of the OpenPGP plugin's containers, which are the card's key slots (docs/spec/openpgp.md §6.2):
 * 0 = signature key (C1), 1 = decryption key (C2), 2 = authentication key (C3). CardCreateContainerEx
 * (generation or import, then the generation time and v4 fingerprint so GnuPG shows a complete key),
 * CardDeleteContainer (rewriting the algorithm attributes), CardGetContainerInfo and the container
 * properties.
 *
 * @packageDocumentation
 */
import {
  type ContainerKeySummary,
  decodeEccPrivateKeyBlob,
  decodeRsaPrivateKeyBlob,
  type EccCurve,
  encodeEccPublicKeyBlob,
  encodeRsaPublicKeyBlob,
  SIGNATURE_PIN_ID,
} from '@minidriver/card-kit';
import {
  type CardKeySizes,
  type ContainerInfo,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  eccKeySpecBits,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  KeySpec,
  ROLE_USER,
  ScardError,
} from '@minidriver/spec';
import type { OpenPgpApplication } from './openpgp-application.js';
import { CONTAINER_COUNT, type OpenPgpCertificateStore } from './openpgp-certificates.js';
import { controlReferenceTag, type KeySlot } from './openpgp-commands.js';
import {
  type ApplicationData,
  type CardPublicKey,
  computeFingerprint,
  containerNameOf,
  curveOid,
  encodeAlgorithmAttributes,
  encodeKeyImportTemplate,
  encodePublicKeyPacket,
  type ImportedPrivateKey,
  isSlotOccupied,
  type KeyAlgorithm,
  OpenPgpAlgorithmId,
  sameKeyType,
  splitEccPoint,
} from './openpgp-objects.js';

/** RSA sizes an OpenPGP 3.x card generates (docs/spec/openpgp.md §3.5). */
export const RSA_KEY_SIZES: CardKeySizes = {
  minimumBitLength: 2048,
  defaultBitLength: 2048,
  maximumBitLength: 4096,
  incrementalBitLength: 1024,
};
/** Coordinate size of each curve. */
export const COORDINATE_BYTES: Readonly<Record<EccCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_OF_BITS: Readonly<Record<number, EccCurve>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/** A key algorithm the minidriver can express (RSA, NIST curves). */
export type ExposedAlgorithm = Exclude<KeyAlgorithm, { kind: 'other' }>;

/** The key slot of container `index`, or SCARD_E_NO_KEY_CONTAINER. */
export function requireContainer(index: number): KeySlot {
  if (!Number.isInteger(index) || index < 0 || index >= CONTAINER_COUNT) {
    throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `OpenPGP cards have containers 0, 1 and 2 only, not ${index}`);
  }
  return index as KeySlot;
}

function unsupported(feature: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `OpenPGP: ${feature} is not supported`);
}

/** The algorithm of an occupied slot the minidriver can express; otherwise the matching error. */
export function exposedAlgorithm(data: ApplicationData, slot: KeySlot): ExposedAlgorithm {
  if (!isSlotOccupied(data, slot)) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${slot} is empty`);
  const algorithm = data.algorithms[slot];
  if (algorithm.kind === 'other') {
    unsupported(`the key algorithm of container ${slot} (only RSA and NIST P-256/384/521 map onto the minidriver)`);
  }
  return algorithm;
}

function keyBits(algorithm: ExposedAlgorithm): number {
  if (algorithm.kind === 'rsa') return algorithm.modulusBits;
  return algorithm.curve === 'P-256' ? 256 : algorithm.curve === 'P-384' ? 384 : 521;
}

/** The key of each container (null = empty or not expressible), for cmapfile. */
export function containerKeysOf(data: ApplicationData, serial: Uint8Array): (ContainerKeySummary | null)[] {
  return ([0, 1, 2] as const).map((slot) => {
    const algorithm = data.algorithms[slot];
    if (!isSlotOccupied(data, slot) || algorithm.kind === 'other') return null;
    return {
      half: slot === 1 ? 'keyExchange' : 'signature',
      bits: keyBits(algorithm),
      name: containerNameOf(slot, serial),
    };
  });
}

/** The key BLOB of a slot's public key: slot 1 is the key-exchange half, slots 0 and 2 the signature half. */
function publicKeyBlob(slot: KeySlot, algorithm: ExposedAlgorithm, publicKey: CardPublicKey): Uint8Array {
  if (algorithm.kind === 'rsa' && publicKey.kind === 'rsa') {
    return encodeRsaPublicKeyBlob(publicKey, slot === 1 ? 'keyExchange' : 'signature');
  }
  if (algorithm.kind === 'ecc' && publicKey.kind === 'ecc') {
    const { x, y } = splitEccPoint(publicKey.point, COORDINATE_BYTES[algorithm.curve]);
    return encodeEccPublicKeyBlob({ curve: algorithm.curve, x, y }, slot === 1 ? 'ecdh' : 'ecdsa');
  }
  throw new ScardError('SCARD_E_COMM_DATA_LOST', `the public key of container ${slot} does not match its algorithm`);
}

function rsaAlgorithm(bits: number): ExposedAlgorithm {
  if (bits < RSA_KEY_SIZES.minimumBitLength || bits > RSA_KEY_SIZES.maximumBitLength || bits % 1024 !== 0) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `OpenPGP cards generate RSA 2048, 3072 or 4096, not ${bits}`);
  }
  return { kind: 'rsa', modulusBits: bits, exponentBits: 32, importFormat: 0 };
}

function eccAlgorithm(algorithmId: number, keySpec: KeySpec): ExposedAlgorithm {
  const curve = CURVE_OF_BITS[eccKeySpecBits(keySpec) ?? 0] as EccCurve;
  return { kind: 'ecc', algorithmId, curve, oid: curveOid(curve) };
}

/** The algorithm a CardCreateContainer request asks for, checked against the slot's role. */
function requestedAlgorithm(slot: KeySlot, request: CreateContainerRequest, importedBits?: number): ExposedAlgorithm {
  const { keySpec } = request;
  const rsaBits = importedBits ?? request.keySize;
  if (slot === 1) {
    if (keySpec === KeySpec.AT_KEYEXCHANGE) return rsaAlgorithm(rsaBits);
    if (isEcdhKeySpec(keySpec)) return eccAlgorithm(OpenPgpAlgorithmId.ecdh, keySpec);
  } else {
    if (keySpec === KeySpec.AT_SIGNATURE) return rsaAlgorithm(rsaBits);
    if (isEcdsaKeySpec(keySpec)) return eccAlgorithm(OpenPgpAlgorithmId.ecdsa, keySpec);
  }
  throw new ScardError(
    'SCARD_E_INVALID_PARAMETER',
    `container ${slot} is the OpenPGP ${['signature', 'decryption', 'authentication'][slot]} key: key spec ${keySpec} does not fit it`,
  );
}

/** A decoded import BLOB: what goes to the card, and the public half for the fingerprint. */
interface ImportedKey {
  readonly privateKey: ImportedPrivateKey;
  readonly publicKey: CardPublicKey;
  /** RSA modulus size, undefined for ECC. */
  readonly bits?: number;
}

/** Decodes the PRIVATEKEYBLOB / BCRYPT_ECCKEY_BLOB of an import request (SCARD_E_INVALID_PARAMETER if bad). */
function decodeImportedKey(request: CreateContainerRequest): ImportedKey {
  const blob = request.keyData;
  if (blob === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'key import without key data');
  if (request.keySpec === KeySpec.AT_SIGNATURE || request.keySpec === KeySpec.AT_KEYEXCHANGE) {
    const key = decodeRsaPrivateKeyBlob(blob);
    return {
      privateKey: { kind: 'rsa', publicExponent: key.publicExponent, prime1: key.prime1, prime2: key.prime2 },
      publicKey: { kind: 'rsa', modulus: key.modulus, publicExponent: key.publicExponent },
      bits: key.bits,
    };
  }
  const key = decodeEccPrivateKeyBlob(blob);
  if (key.curve !== CURVE_OF_BITS[eccKeySpecBits(request.keySpec) ?? 0]) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `the key BLOB is ${key.curve}, not the curve of key spec ${request.keySpec}`,
    );
  }
  return {
    privateKey: { kind: 'ecc', privateScalar: key.d },
    publicKey: { kind: 'ecc', point: new Uint8Array([0x04, ...key.x, ...key.y]) },
  };
}

/** The container entry points of the OpenPGP plugin. */
export class OpenPgpContainers {
  readonly #app: OpenPgpApplication;

  readonly #certificates: OpenPgpCertificateStore;

  constructor(app: OpenPgpApplication, certificates: OpenPgpCertificateStore) {
    this.#app = app;
    this.#certificates = certificates;
  }

  /** Empties the certificate of container `slot`, if it has one: it certified the key being replaced. */
  async #deleteCertificateOf(slot: KeySlot): Promise<void> {
    const kind = slot === 1 ? 'kxc' : 'ksc';
    const existing = await this.#certificates.read(slot, kind);
    if (existing === undefined) return;
    await this.#certificates.delete(slot, kind);
  }

  async getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    const slot = requireContainer(containerIndex);
    const data = await this.#app.readApplicationData();
    const algorithm = exposedAlgorithm(data, slot);
    const publicKey = await this.#app.readPublicKey(slot);
    const blob = publicKeyBlob(slot, algorithm, publicKey);
    return slot === 1 ? { keyExchangePublicKey: blob } : { signaturePublicKey: blob };
  }

  /**
   * CardCreateContainerEx: PUT DATA C1/C2/C3 when the key type changes, then GENERATE (47 80) or import
   * (PUT DATA odd 4D), then the generation time and the v4 fingerprint, so that GnuPG's `--card-status`
   * shows a complete key. Needs PW3 (ROLE_ADMIN). Keys are protected by PW1: the user PIN, or the
   * signature PIN for the signature key.
   */
  async createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    const slot = requireContainer(containerIndex);
    if (request.pinId !== ROLE_USER && !(slot === 0 && request.pinId === SIGNATURE_PIN_ID)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `OpenPGP keys are protected by PW1: container ${slot} cannot be bound to PIN ${request.pinId}`,
      );
    }
    const imported = request.mode === 'import' ? decodeImportedKey(request) : undefined;
    const algorithm = requestedAlgorithm(slot, request, imported?.bits);
    const data = await this.#app.readApplicationData();
    // The old key's certificate goes first, then its fingerprint: a card pulled out anywhere below shows an
    // empty slot (to GnuPG and to us alike), never a new key with the old certificate or fingerprint.
    await this.#deleteCertificateOf(slot);
    if (data.fingerprints[slot]?.some((byte) => byte !== 0)) {
      await this.#app.writeFingerprint(slot, new Uint8Array(20));
    }
    const current = data.algorithms[slot];
    const target = current.kind === 'rsa' && sameKeyType(current, algorithm) ? current : algorithm;
    if (!sameKeyType(current, algorithm) || (imported && current.kind === 'rsa' && current.importFormat !== 0)) {
      const attributes = target.kind === 'rsa' ? { ...target, importFormat: 0 } : target;
      await this.#app.writeAlgorithmAttributes(slot, encodeAlgorithmAttributes(attributes));
    }
    let publicKey: CardPublicKey;
    if (imported) {
      await this.#app.importKey(encodeKeyImportTemplate(controlReferenceTag(slot), target, imported.privateKey));
      publicKey = imported.publicKey;
    } else {
      publicKey = await this.#app.generateKeyPair(slot);
    }
    const creationTime = Math.floor(Date.now() / 1000);
    const fingerprint = computeFingerprint(encodePublicKeyPacket(algorithm, publicKey, creationTime));
    await this.#app.writeGenerationTime(slot, creationTime);
    await this.#app.writeFingerprint(slot, fingerprint);
  }

  /**
   * CardDeleteContainer: the card has no delete command. Rewriting the algorithm attributes deletes the key
   * (docs/spec/openpgp.md §6.2); then the fingerprint and generation time are zeroed so every tool sees an
   * empty slot.
   */
  async deleteContainer(containerIndex: number): Promise<void> {
    const slot = requireContainer(containerIndex);
    const data = await this.#app.readApplicationData();
    // The certificate certified the key being deleted: it goes first (a fault later leaves no orphan).
    await this.#deleteCertificateOf(slot);
    if (!isSlotOccupied(data, slot)) return;
    const current = data.algorithms[slot];
    const attributes = current.kind === 'other' ? current.attributes : encodeAlgorithmAttributes(current);
    const other = encodeAlgorithmAttributes(
      current.kind === 'rsa' && current.modulusBits === 2048
        ? { kind: 'rsa', modulusBits: 3072, exponentBits: 32, importFormat: 0 }
        : { kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 },
    );
    await this.#app.writeAlgorithmAttributes(slot, other);
    await this.#app.writeAlgorithmAttributes(slot, attributes);
    await this.#app.writeFingerprint(slot, new Uint8Array(20));
    await this.#app.writeGenerationTime(slot, 0);
  }

  async getContainerProperty<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    const slot = requireContainer(containerIndex);
    switch (name) {
      case 'Container Info':
        return (await this.getContainerInfo(slot)) as ContainerPropertyTypes[K];
      case 'PIN Identifier': {
        if (slot !== 0) return ROLE_USER as ContainerPropertyTypes[K];
        const status = await this.#app.readPasswordStatus();
        return (status.signaturePinOncePerSignature ? SIGNATURE_PIN_ID : ROLE_USER) as ContainerPropertyTypes[K];
      }
      case 'Associated ECDH Key': {
        const data = await this.#app.readApplicationData();
        const own = data.algorithms[slot];
        const decryption = data.algorithms[1];
        if (
          slot !== 1 &&
          own.kind === 'ecc' &&
          decryption.kind === 'ecc' &&
          decryption.curve === own.curve &&
          isSlotOccupied(data, slot) &&
          isSlotOccupied(data, 1)
        ) {
          return 1 as ContainerPropertyTypes[K];
        }
        throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${slot} has no associated ECDH key`);
      }
      default:
        return unsupported(`container property "${String(name)}"`);
    }
  }
}
