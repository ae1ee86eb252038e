/**
 * @module OpenPgpMinidriver: the minidriver contract mapped onto an OpenPGP card (openpgp.md §6.2).
 *
 * - Containers have fixed indexes, the card's key slots: 0 = signature key (C1, PSO:CDS), 1 = decryption key
 *   (C2, PSO:DECIPHER / ECDH), 2 = authentication key (C3, INTERNAL AUTHENTICATE; the default container).
 * - Certificates are the cardholder certificate DO 7F21: occurrence 2 → `ksc00`, 1 → `kxc01`, 0 → `ksc02`
 *   (v3 SELECT DATA); a v2 card's single 7F21 is `ksc02`.
 * - PINs: ROLE_USER (1) = PW1 (VERIFY 82 and 81), ROLE_ADMIN (2) = PW3 (83), PIN 3 = the signature PIN
 *   (PW1 as 81 only; always-prompt when C4 byte 1 says one signature per VERIFY), PIN 4 = the Resetting
 *   Code, an unblock-only secret.
 * - The card has nowhere standard to keep `cardcf`: the plugin answers CP_CACHE_MODE_NO_CACHE and
 *   synthesizes read-only `cardid`, `cardcf`, `cardapps` and `mscp/cmapfile` from the card's objects.
 */
import { randomFillSync } from 'node:crypto';
import {
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_DATA_VALUE_UNKNOWN,
  CARD_KEY_IMPORT_PLAIN_TEXT,
  CARD_PIN_STRENGTH_PLAINTEXT,
  CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardFileInfo,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type CardPropertyName,
  type CardPropertyTypes,
  type ChangeAuthenticatorRequest,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  type ContainerInfo,
  type ContainerMapRecord,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  certificateFileName,
  createPinSet,
  type DeriveKeyRequest,
  type DhAgreementRequest,
  DIGEST_INFO_PREFIX,
  type DirectoryName,
  decodeCertificateFile,
  decodeEccPrivateKeyBlob,
  decodeEccPublicKeyBlob,
  decodeRsaPrivateKeyBlob,
  deriveKeyFromSecret,
  type EccCurve,
  eccKeySpecBits,
  encodeCardApps,
  encodeContainerMap,
  encodeEccPublicKeyBlob,
  encodeRsaPublicKeyBlob,
  FileAccessCondition,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  KeySpec,
  LogicalName,
  leftPad,
  type Minidriver,
  PinCachePolicyType,
  type PinId,
  type PinInfo,
  type PinSet,
  parseCertificateFileName,
  ROLE_ADMIN,
  ROLE_USER,
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  SecretPurpose,
  SecretType,
  type SignDataRequest,
  type UserId,
  wipe,
} from '@minidriver/core';
import { OpenPgpApplication } from './openpgp-application.js';
import { controlReferenceTag, type KeySlot, PasswordReference } from './openpgp-commands.js';
import {
  type ApplicationData,
  type CardPublicKey,
  cardIdFromAid,
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

/** PIN 3: PW1 in its signature role (VERIFY 81). */
export const SIGNATURE_PIN_ID = 3 as PinId;
/** PIN 4: the Resetting Code, which only unblocks PW1. */
export const RESETTING_CODE_PIN_ID = 4 as PinId;

/** Container index of each key slot, and the other way round: they are the same numbers. */
const CONTAINER_COUNT = 3;
/** The container Windows logon uses by default: the authentication key. */
const DEFAULT_CONTAINER = 2;
/** RSA sizes an OpenPGP 3.x card generates (openpgp.md §3.5). */
const RSA_KEY_SIZES: CardKeySizes = {
  minimumBitLength: 2048,
  defaultBitLength: 2048,
  maximumBitLength: 4096,
  incrementalBitLength: 1024,
};
const COORDINATE_BYTES: Readonly<Record<EccCurve, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const CURVE_OF_BITS: Readonly<Record<number, EccCurve>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
const CACHE_FILE_SIZE = 6;

type ExposedAlgorithm = Exclude<KeyAlgorithm, { kind: 'other' }>;

function requireContainer(index: number): KeySlot {
  if (!Number.isInteger(index) || index < 0 || index >= CONTAINER_COUNT) {
    throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `OpenPGP cards have containers 0, 1 and 2 only, not ${index}`);
  }
  return index as KeySlot;
}

function unsupported(feature: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `OpenPGP: ${feature} is not supported`);
}

function fileNotFound(directory: DirectoryName, name: string): never {
  throw new ScardError('SCARD_E_FILE_NOT_FOUND', `OpenPGP: no file ${directory ? `${directory}/` : ''}${name}`);
}

/** The minidriver of one context on an OpenPGP card. */
export class OpenPgpMinidriver implements Minidriver {
  private readonly application: OpenPgpApplication;
  private readonly cardId: Uint8Array;
  private readonly serial: Uint8Array;
  private readonly hasCertificateOccurrences: boolean;
  private readonly agreements = new Map<number, Uint8Array>();
  /**
   * cardcf as the caller last wrote it in this context. The card has no standard place for it; CARD_DATA 6+
   * callers get CP_CACHE_MODE_NO_CACHE and never write it, but v4/v5 callers (always GLOBAL) bump it after
   * their own writes, and those bumps must keep working within the context.
   */
  private cacheFile: Uint8Array = new Uint8Array(CACHE_FILE_SIZE);

  /** The card wants KDF-hashed PINs (KDF-DO F9), which this plugin does not compute. */
  private readonly pinKdfActive: boolean;

  private constructor(application: OpenPgpApplication, data: ApplicationData, pinKdfActive: boolean) {
    this.application = application;
    this.pinKdfActive = pinKdfActive;
    this.cardId = cardIdFromAid(data.aid);
    this.serial = data.aid.serial;
    // SELECT DATA (three 7F21 occurrences) exists from version 3.0.
    this.hasCertificateOccurrences = data.aid.version[0] >= 3;
  }

  /** CardAcquireContext: SELECT the application and read its AID. */
  static async open(context: CardContext): Promise<OpenPgpMinidriver> {
    const application = new OpenPgpApplication(context.transport);
    await application.selectApplication();
    const data = await application.readApplicationData();
    return new OpenPgpMinidriver(application, data, await application.isPinKdfActive(data.extendedCapabilities));
  }

  async deleteContext(): Promise<void> {
    for (const secret of this.agreements.values()) wipe(secret);
    this.agreements.clear();
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // The card stores certificates as plain DER (what GnuPG and OpenSC read): the caller must not compress.
    return { certificateCompression: true, keyGeneration: true };
  }

  // ---- containers -------------------------------------------------------------------------------

  async getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    const slot = requireContainer(containerIndex);
    const data = await this.application.readApplicationData();
    const algorithm = this.exposedAlgorithm(data, slot);
    const publicKey = await this.application.readPublicKey(slot);
    const blob = publicKeyBlob(slot, algorithm, publicKey);
    return slot === 1 ? { keyExchangePublicKey: blob } : { signaturePublicKey: blob };
  }

  /**
   * CardCreateContainer: PUT DATA C1/C2/C3 when the key type changes, then GENERATE (47 80) or import
   * (PUT DATA odd 4D), then the generation time and the v4 fingerprint, so that GnuPG's `--card-status`
   * shows a complete key. Needs PW3 (ROLE_ADMIN) authenticated.
   */
  async createContainer(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    const slot = requireContainer(containerIndex);
    const imported = request.mode === 'import' ? decodeImportedKey(request) : undefined;
    const algorithm = requestedAlgorithm(slot, request, imported?.bits);
    const data = await this.application.readApplicationData();
    // The old key's certificate goes first, then its fingerprint: a card pulled out anywhere below shows an
    // empty slot (to GnuPG and to us alike), never a new key with the old certificate or fingerprint.
    await this.deleteCertificateOf(slot);
    if (data.fingerprints[slot]?.some((byte) => byte !== 0)) {
      await this.application.writeFingerprint(slot, new Uint8Array(20));
    }
    const current = data.algorithms[slot];
    const target = current.kind === 'rsa' && sameKeyType(current, algorithm) ? current : algorithm;
    if (!sameKeyType(current, algorithm) || (imported && current.kind === 'rsa' && current.importFormat !== 0)) {
      // Import uses the standard format (00); keep the card's exponent size.
      const attributes = target.kind === 'rsa' ? { ...target, importFormat: 0 } : target;
      await this.application.writeAlgorithmAttributes(slot, encodeAlgorithmAttributes(attributes));
    }
    let publicKey: CardPublicKey;
    if (imported) {
      await this.application.importKey(encodeKeyImportTemplate(controlReferenceTag(slot), target, imported.privateKey));
      publicKey = imported.publicKey;
    } else {
      publicKey = await this.application.generateKeyPair(slot);
    }
    const creationTime = Math.floor(Date.now() / 1000);
    const fingerprint = computeFingerprint(encodePublicKeyPacket(algorithm, publicKey, creationTime));
    // GnuPG and OpenSC treat a slot with a zero fingerprint as empty: the key is complete only with both.
    await this.application.writeGenerationTime(slot, creationTime);
    await this.application.writeFingerprint(slot, fingerprint);
  }

  async createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    const slot = requireContainer(containerIndex);
    if (request.pinId !== ROLE_USER && !(slot === 0 && request.pinId === SIGNATURE_PIN_ID)) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `OpenPGP keys are protected by PW1: container ${slot} cannot be bound to PIN ${request.pinId}`,
      );
    }
    await this.createContainer(containerIndex, request);
  }

  /**
   * CardDeleteContainer: the card has no delete command. Rewriting the algorithm attributes deletes the key
   * (openpgp.md §6.2); then the fingerprint and generation time are zeroed so every tool sees an empty slot.
   */
  async deleteContainer(containerIndex: number): Promise<void> {
    const slot = requireContainer(containerIndex);
    const data = await this.application.readApplicationData();
    // The certificate certified the key being deleted: it goes first (a fault later leaves no orphan).
    await this.deleteCertificateOf(slot);
    if (!isSlotOccupied(data, slot)) return;
    const current = data.algorithms[slot];
    const attributes = current.kind === 'other' ? current.attributes : encodeAlgorithmAttributes(current);
    const other = encodeAlgorithmAttributes(
      current.kind === 'rsa' && current.modulusBits === 2048
        ? { kind: 'rsa', modulusBits: 3072, exponentBits: 32, importFormat: 0 }
        : { kind: 'rsa', modulusBits: 2048, exponentBits: 32, importFormat: 0 },
    );
    await this.application.writeAlgorithmAttributes(slot, other);
    await this.application.writeAlgorithmAttributes(slot, attributes);
    await this.application.writeFingerprint(slot, new Uint8Array(20));
    await this.application.writeGenerationTime(slot, 0);
  }

  // ---- PINs -------------------------------------------------------------------------------------

  async authenticatePin(userId: UserId, pin: Uint8Array): Promise<void> {
    await this.authenticateById(userId === 'admin' ? ROLE_ADMIN : ROLE_USER, pin);
  }

  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined) {
    if (flags & (CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN)) {
      unsupported('session PINs');
    }
    if (pinData === undefined) unsupported('external PIN entry');
    await this.authenticateById(pinId, pinData);
    return {};
  }

  async unblockPin(
    _userId: 'user',
    authenticationData: Uint8Array,
    newPin: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    if (mode !== 'pin') unsupported('challenge/response administrator authentication (PW3 is a PIN)');
    if (retryCount !== 0) unsupported('changing the PIN retry limit');
    await this.application.resetPinWithResettingCode(authenticationData, newPin);
  }

  async changeAuthenticator(
    userId: UserId,
    currentAuthenticator: Uint8Array,
    newAuthenticator: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    if (mode !== 'pin') unsupported('challenge/response administrator authentication (PW3 is a PIN)');
    if (retryCount !== 0) unsupported('changing the PIN retry limit');
    await this.application.changePin(userId === 'admin' ? 0x83 : 0x81, currentAuthenticator, newAuthenticator);
  }

  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    if (request.retryCount !== 0) unsupported('changing the PIN retry limit');
    const { authenticatingPinId: by, targetPinId: target } = request;
    const targetIsPw1 = target === ROLE_USER || target === SIGNATURE_PIN_ID;
    if (request.operation === 'change') {
      if (targetIsPw1 && (by === target || by === ROLE_USER)) {
        return this.application.changePin(0x81, request.authenticatingData, request.targetData);
      }
      if (target === ROLE_ADMIN && by === ROLE_ADMIN) {
        return this.application.changePin(0x83, request.authenticatingData, request.targetData);
      }
      if (target === RESETTING_CODE_PIN_ID && by === ROLE_ADMIN) {
        await this.application.verifyPin(PasswordReference.pw3, request.authenticatingData);
        return this.application.writeResettingCode(request.targetData);
      }
    } else if (targetIsPw1) {
      if (by === ROLE_ADMIN) {
        await this.application.verifyPin(PasswordReference.pw3, request.authenticatingData);
        return this.application.resetPinAsAdmin(request.targetData);
      }
      if (by === RESETTING_CODE_PIN_ID) {
        return this.application.resetPinWithResettingCode(request.authenticatingData, request.targetData);
      }
    }
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `OpenPGP: PIN ${by} cannot ${request.operation} PIN ${target}`);
  }

  async deauthenticate(userId: UserId): Promise<void> {
    await this.deauthenticateEx(userId === 'admin' ? createPinSet(ROLE_ADMIN) : createPinSet(ROLE_USER));
  }

  /** VERIFY P1 FF per reference; cards before 3.1 answer SCARD_E_UNSUPPORTED_FEATURE and the session resets. */
  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    for (const secret of this.agreements.values()) wipe(secret);
    this.agreements.clear();
    if (pinSet & createPinSet(ROLE_USER)) {
      await this.application.resetVerification(PasswordReference.otherPw1);
      await this.application.resetVerification(PasswordReference.signaturePw1);
    }
    if (pinSet & createPinSet(SIGNATURE_PIN_ID))
      await this.application.resetVerification(PasswordReference.signaturePw1);
    if (pinSet & createPinSet(ROLE_ADMIN)) await this.application.resetVerification(PasswordReference.pw3);
  }

  // ---- files ------------------------------------------------------------------------------------

  async readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    if (directory === null) {
      if (name === LogicalName.CARD_IDENTIFIER_FILE) return this.cardId.slice();
      // Synthesized: all zeros for a new context (CP_CACHE_MODE_NO_CACHE tells v6+ callers not to trust it).
      if (name === LogicalName.CACHE_FILE) return this.cacheFile.slice();
      if (name === LogicalName.CARD_APPS_FILE) return encodeCardApps([LogicalName.BASE_CSP_DIR]);
      return fileNotFound(directory, name);
    }
    if (directory !== LogicalName.BASE_CSP_DIR) {
      throw new ScardError('SCARD_E_DIR_NOT_FOUND', `OpenPGP: no directory ${directory}`);
    }
    if (name === LogicalName.CONTAINER_MAP_FILE) return this.readContainerMap();
    const occurrence = this.certificateOccurrenceOf(name);
    if (occurrence === undefined) return fileNotFound(directory, name);
    const certificate = await this.application.readCertificate(occurrence.selectData);
    if (certificate.length === 0) return fileNotFound(directory, name);
    return certificate;
  }

  /** Certificate files are the 7F21 occurrences; writing one needs PW3 (ROLE_ADMIN). */
  async writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    if (directory === null && name === LogicalName.CACHE_FILE) {
      if (data.length < CACHE_FILE_SIZE) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'cardcf is 6 bytes or more');
      this.cacheFile = data.slice();
      return;
    }
    const occurrence = directory === LogicalName.BASE_CSP_DIR ? this.certificateOccurrenceOf(name) : undefined;
    if (occurrence === undefined) {
      unsupported(`writing ${directory ? `${directory}/` : ''}${name} (only certificate files are stored on the card)`);
    }
    // The caller may hand the Base CSP's compressed form: the card keeps plain DER for GnuPG and OpenSC.
    const certificate = data.length > 0 ? decodeCertificateFile(data) : data;
    await this.application.writeCertificate(occurrence.selectData, certificate);
  }

  async deleteFile(directory: DirectoryName, name: string): Promise<void> {
    const occurrence = directory === LogicalName.BASE_CSP_DIR ? this.certificateOccurrenceOf(name) : undefined;
    if (occurrence === undefined) unsupported(`deleting ${directory ? `${directory}/` : ''}${name}`);
    const existing = await this.application.readCertificate(occurrence.selectData);
    if (existing.length === 0) fileNotFound(directory, name);
    await this.application.writeCertificate(occurrence.selectData, new Uint8Array(0));
  }

  async enumFiles(directory: DirectoryName): Promise<string[]> {
    if (directory === null) {
      return [LogicalName.CARD_IDENTIFIER_FILE, LogicalName.CACHE_FILE, LogicalName.CARD_APPS_FILE];
    }
    if (directory !== LogicalName.BASE_CSP_DIR) {
      throw new ScardError('SCARD_E_DIR_NOT_FOUND', `OpenPGP: no directory ${directory}`);
    }
    const names: string[] = [LogicalName.CONTAINER_MAP_FILE];
    for (let index = 0; index < CONTAINER_COUNT; index++) {
      const name = certificateFileName(index === 1 ? 'kxc' : 'ksc', index);
      const occurrence = this.certificateOccurrenceOf(name);
      if (occurrence === undefined) continue;
      const certificate = await this.application.readCertificate(occurrence.selectData);
      if (certificate.length > 0) names.push(name);
      wipe(certificate);
    }
    return names;
  }

  async getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    const contents = await this.readFile(directory, name);
    // Certificates need PW3 to write; cardcf lives in the context; the other synthesized files are read-only
    // (closest access condition: admin write).
    const accessCondition =
      directory === null && name === LogicalName.CACHE_FILE
        ? FileAccessCondition.EveryoneReadUserWriteAc
        : FileAccessCondition.EveryoneReadAdminWriteAc;
    return { size: contents.length, accessCondition };
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    const data = await this.application.readApplicationData();
    const free = ([0, 1, 2] as const).filter((slot) => !isSlotOccupied(data, slot)).length;
    return { bytesAvailable: CARD_DATA_VALUE_UNKNOWN, keyContainersAvailable: free, maxKeyContainers: CONTAINER_COUNT };
  }

  async queryKeySizes(keySpec: KeySpec): Promise<CardKeySizes> {
    if (keySpec === KeySpec.AT_SIGNATURE || keySpec === KeySpec.AT_KEYEXCHANGE) return RSA_KEY_SIZES;
    const bits = eccKeySpecBits(keySpec);
    if (bits === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown key spec ${keySpec}`);
    return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 0 };
  }

  // ---- cryptography -----------------------------------------------------------------------------

  async signData(request: SignDataRequest): Promise<Uint8Array> {
    const slot = requireContainer(request.containerIndex);
    if (slot === 1) unsupported('signing with the decryption key (container 1)');
    const data = await this.application.readApplicationData();
    const algorithm = this.exposedAlgorithm(data, slot);
    const sign = (input: Uint8Array) =>
      slot === 0 ? this.application.computeSignature(input) : this.application.internalAuthenticate(input);
    if (algorithm.kind === 'ecc') {
      const coordinateBytes = COORDINATE_BYTES[algorithm.curve];
      const signature = await sign(request.data);
      if (signature.length !== 2 * coordinateBytes) {
        throw new ScardError('SCARD_E_COMM_DATA_LOST', 'OpenPGP: the ECDSA signature has the wrong length');
      }
      return signature;
    }
    const padding = request.padding;
    if (padding.type !== 'pkcs1') {
      unsupported(`${padding.type === 'pss' ? 'PSS' : 'raw RSA'} signatures (the card always applies PKCS #1 v1.5)`);
    }
    // The card adds the type 01 padding; the host supplies the DigestInfo (openpgp.md §4.3).
    const input =
      padding.hashAlgorithm === null
        ? request.data.slice()
        : new Uint8Array([...DIGEST_INFO_PREFIX[padding.hashAlgorithm], ...request.data]);
    const signature = await sign(input);
    return reverseBytes(leftPad(signature, algorithm.modulusBits / 8));
  }

  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    const slot = requireContainer(request.containerIndex);
    if (slot !== 1) unsupported(`RSA decryption with container ${slot} (only the decryption key, container 1)`);
    const data = await this.application.readApplicationData();
    const algorithm = this.exposedAlgorithm(data, slot);
    if (algorithm.kind !== 'rsa') throw new ScardError('SCARD_E_NO_KEY_CONTAINER', 'container 1 holds no RSA key');
    if (request.padding.type === 'oaep') unsupported('OAEP decryption (the card removes PKCS #1 v1.5 padding itself)');
    const modulusBytes = algorithm.modulusBits / 8;
    const ciphertext = reverseBytes(request.data);
    const message = await this.application.decipherRsa(ciphertext);
    try {
      if (request.padding.type === 'pkcs1') return reverseBytes(message);
      // Raw block requested: rebuild a valid type 02 block around the message (minidriver.md §5.6.2).
      return reverseBytes(rebuildPkcs1Type2(message, modulusBytes));
    } finally {
      wipe(message);
    }
  }

  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    const slot = requireContainer(request.containerIndex);
    const data = await this.application.readApplicationData();
    const algorithm = this.exposedAlgorithm(data, slot);
    if (slot !== 1 || algorithm.kind !== 'ecc' || algorithm.algorithmId !== OpenPgpAlgorithmId.ecdh) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${slot} holds no ECDH key`);
    }
    const peer = decodeEccPublicKeyBlob(request.publicKey);
    if (peer.curve !== algorithm.curve || peer.use !== 'ecdh') {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `the peer key is not an ECDH ${algorithm.curve} public key`);
    }
    const secret = await this.application.agreeEcdh(new Uint8Array([0x04, ...peer.x, ...peer.y]));
    for (let index = 0; index < 256; index++) {
      if (!this.agreements.has(index)) {
        this.agreements.set(index, secret);
        return index;
      }
    }
    wipe(secret);
    throw new ScardError('SCARD_E_NO_MEMORY', 'OpenPGP: 256 DH agreements are already open');
  }

  async deriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
    const secret = this.agreements.get(request.agreementIndex);
    if (secret === undefined)
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `no DH agreement ${request.agreementIndex}`);
    return deriveKeyFromSecret(secret, request);
  }

  async destroyDHAgreement(agreementIndex: number): Promise<void> {
    const secret = this.agreements.get(agreementIndex);
    if (secret === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `no DH agreement ${agreementIndex}`);
    wipe(secret);
    this.agreements.delete(agreementIndex);
  }

  // ---- properties -------------------------------------------------------------------------------

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
        const status = await this.application.readPasswordStatus();
        return (status.signaturePinOncePerSignature ? SIGNATURE_PIN_ID : ROLE_USER) as ContainerPropertyTypes[K];
      }
      case 'Associated ECDH Key': {
        const data = await this.application.readApplicationData();
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

  async getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    const value = await this.propertyValue(name, flags);
    return value as CardPropertyTypes[K];
  }

  async setProperty<K extends CardPropertyName>(name: K, _value: CardPropertyTypes[K], _flags: number): Promise<void> {
    // The parent window and PIN context string only matter to a PIN dialog, which this plugin never shows.
    if (name === 'Parent Window' || name === 'PIN Context String') return;
    unsupported(`setting card property "${name}"`);
  }

  private async propertyValue(name: CardPropertyName, flags: number): Promise<unknown> {
    switch (name) {
      case 'Free Space':
        return this.queryFreeSpace();
      case 'Capabilities':
        return this.queryCapabilities();
      case 'Key Sizes':
        return this.queryKeySizes(flags as KeySpec);
      case 'Read Only Mode':
        return false;
      case 'Cache Mode':
        // The card cannot keep cardcf, and GnuPG changes keys behind our back: the caller must not cache.
        return CacheMode.NO_CACHE;
      case 'Supports Windows x.509 Enrollment':
        // Enrollment writes certificates as the user; the card needs PW3 to write 7F21.
        return false;
      case 'Card Identifier':
        return this.cardId.slice();
      case 'Card Serial Number':
        return this.serial.slice();
      case 'PIN Information':
        return this.pinInfo(flags);
      case 'PIN List':
        return createPinSet(ROLE_USER, ROLE_ADMIN, SIGNATURE_PIN_ID, RESETTING_CODE_PIN_ID);
      case 'Authenticated State':
        return this.authenticatedState();
      case 'PIN Strength Verify':
      case 'PIN Strength Change':
      case 'PIN Strength Unblock':
        this.requirePinId(flags);
        return CARD_PIN_STRENGTH_PLAINTEXT;
      case 'Key Import Support':
        // PRIVATEKEYBLOB / BCRYPT_ECCKEY_BLOB in the clear, sent with PUT DATA 4D.
        return CARD_KEY_IMPORT_PLAIN_TEXT;
      case 'minidriver:PIN Retries Left':
        return this.pinRetriesLeft(flags);
      default:
        return unsupported(`card property "${name}"`);
    }
  }

  /**
   * Our vendor property CP_PIN_RETRIES_LEFT from the PW status bytes C4 (bytes 5-7, which GET DATA reads
   * without spending a try): PW1 for the user and signature PINs, PW3 for the admin, the Resetting Code's
   * own counter (0 also when no Resetting Code is set).
   */
  private async pinRetriesLeft(pinId: number): Promise<number> {
    this.requirePinId(pinId);
    const status = await this.application.readPasswordStatus();
    if (pinId === ROLE_ADMIN) return status.retriesPw3;
    if (pinId === RESETTING_CODE_PIN_ID) return status.retriesResetCode;
    return status.retriesPw1;
  }

  private requirePinId(pinId: number): void {
    if (pinId !== ROLE_USER && pinId !== ROLE_ADMIN && pinId !== SIGNATURE_PIN_ID && pinId !== RESETTING_CODE_PIN_ID) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `OpenPGP: no PIN ${pinId}`);
    }
  }

  private async pinInfo(pinId: number): Promise<PinInfo> {
    this.requirePinId(pinId);
    const normal = { type: PinCachePolicyType.PinCacheNormal, info: 0 } as const;
    const adminOrCode = createPinSet(ROLE_ADMIN, RESETTING_CODE_PIN_ID);
    switch (pinId) {
      case ROLE_USER:
        return {
          pinType: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.PrimaryCardPin,
          changePermission: createPinSet(ROLE_USER),
          unblockPermission: adminOrCode,
          cachePolicy: normal,
          flags: 0,
        };
      case ROLE_ADMIN:
        return {
          pinType: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.AdministratorPin,
          changePermission: createPinSet(ROLE_ADMIN),
          unblockPermission: 0,
          cachePolicy: normal,
          flags: 0,
        };
      case SIGNATURE_PIN_ID: {
        const status = await this.application.readPasswordStatus();
        return {
          pinType: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.DigitalSignaturePin,
          changePermission: createPinSet(ROLE_USER, SIGNATURE_PIN_ID),
          unblockPermission: adminOrCode,
          cachePolicy: status.signaturePinOncePerSignature
            ? { type: PinCachePolicyType.PinCacheAlwaysPrompt, info: 0 }
            : normal,
          flags: 0,
        };
      }
      default:
        return {
          pinType: SecretType.AlphaNumericPinType,
          purpose: SecretPurpose.UnblockOnlyPin,
          changePermission: createPinSet(ROLE_ADMIN),
          unblockPermission: 0,
          cachePolicy: { type: PinCachePolicyType.PinCacheNone, info: 0 },
          flags: 0,
        };
    }
  }

  /** The PINs whose access state the card reports as granted (empty VERIFY, v3). */
  private async authenticatedState(): Promise<PinSet> {
    let set = 0;
    if (await this.application.isVerified(PasswordReference.otherPw1)) set |= createPinSet(ROLE_USER);
    if (await this.application.isVerified(PasswordReference.signaturePw1)) set |= createPinSet(SIGNATURE_PIN_ID);
    if (await this.application.isVerified(PasswordReference.pw3)) set |= createPinSet(ROLE_ADMIN);
    return set;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * ROLE_USER verifies PW1 for both of its access states (82, then 81) so that one PIN entry allows
   * decryption, authentication and the next signature; a wrong PIN fails at the first VERIFY and spends
   * one try only. PIN 3 verifies 81 alone, right before a signature.
   */
  private async authenticateById(pinId: PinId, pin: Uint8Array): Promise<void> {
    // Sending the plain PIN to a KDF card would spend a try for nothing.
    if (this.pinKdfActive) unsupported('PINs hashed with the KDF-DO (F9)');
    switch (pinId) {
      case ROLE_USER:
        await this.application.verifyPin(PasswordReference.otherPw1, pin);
        await this.application.verifyPin(PasswordReference.signaturePw1, pin);
        return;
      case ROLE_ADMIN:
        return this.application.verifyPin(PasswordReference.pw3, pin);
      case SIGNATURE_PIN_ID:
        return this.application.verifyPin(PasswordReference.signaturePw1, pin);
      case RESETTING_CODE_PIN_ID:
        return unsupported('authenticating with the Resetting Code (it only unblocks PW1)');
      default:
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `OpenPGP: no PIN ${pinId}`);
    }
  }

  /** The algorithm of an occupied slot the minidriver can express; otherwise the matching error. */
  private exposedAlgorithm(data: ApplicationData, slot: KeySlot): ExposedAlgorithm {
    if (!isSlotOccupied(data, slot)) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${slot} is empty`);
    const algorithm = data.algorithms[slot];
    if (algorithm.kind === 'other') {
      unsupported(`the key algorithm of container ${slot} (only RSA and NIST P-256/384/521 map onto the minidriver)`);
    }
    return algorithm;
  }

  /** Empties the certificate of container `slot`, if it has one: it certified the key being replaced. */
  private async deleteCertificateOf(slot: KeySlot): Promise<void> {
    const occurrence = this.certificateOccurrenceOf(certificateFileName(slot === 1 ? 'kxc' : 'ksc', slot));
    if (occurrence === undefined) return;
    const existing = await this.application.readCertificate(occurrence.selectData);
    const present = existing.length > 0;
    wipe(existing);
    if (present) await this.application.writeCertificate(occurrence.selectData, new Uint8Array(0));
  }

  /** The 7F21 occurrence behind a certificate file name of this card, if the name is one. */
  private certificateOccurrenceOf(name: string): { selectData: number | undefined } | undefined {
    const parsed = parseCertificateFileName(name);
    if (parsed === undefined || parsed.containerIndex >= CONTAINER_COUNT) return undefined;
    const expectedKind = parsed.containerIndex === 1 ? 'kxc' : 'ksc';
    if (parsed.kind !== expectedKind) return undefined;
    if (!this.hasCertificateOccurrences) {
      // A v2 card has one 7F21, by convention the authentication key's certificate.
      return parsed.containerIndex === DEFAULT_CONTAINER ? { selectData: undefined } : undefined;
    }
    return { selectData: 2 - parsed.containerIndex };
  }

  private async readContainerMap(): Promise<Uint8Array> {
    const data = await this.application.readApplicationData();
    const occupied = ([0, 1, 2] as const).map(
      (slot) => isSlotOccupied(data, slot) && data.algorithms[slot].kind !== 'other',
    );
    const defaultContainer = occupied[DEFAULT_CONTAINER] ? DEFAULT_CONTAINER : occupied.indexOf(true);
    const records: ContainerMapRecord[] = ([0, 1, 2] as const).map((slot) => {
      if (!occupied[slot]) return { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 };
      const bits = keyBits(data.algorithms[slot] as ExposedAlgorithm);
      return {
        guid: containerNameOf(slot, this.serial),
        flags: CONTAINER_MAP_VALID_CONTAINER | (slot === defaultContainer ? CONTAINER_MAP_DEFAULT_CONTAINER : 0),
        signatureKeySizeBits: slot === 1 ? 0 : bits,
        keyExchangeKeySizeBits: slot === 1 ? bits : 0,
      };
    });
    return encodeContainerMap(records);
  }
}

function keyBits(algorithm: ExposedAlgorithm): number {
  if (algorithm.kind === 'rsa') return algorithm.modulusBits;
  return algorithm.curve === 'P-256' ? 256 : algorithm.curve === 'P-384' ? 384 : 521;
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

/** `00 02 <non-zero random filler> 00 <message>` of modulus length. */
function rebuildPkcs1Type2(message: Uint8Array, modulusBytes: number): Uint8Array {
  const fillerLength = modulusBytes - 3 - message.length;
  if (fillerLength < 8) throw new ScardError('SCARD_E_COMM_DATA_LOST', 'OpenPGP: the decrypted message is too long');
  const block = new Uint8Array(modulusBytes);
  block[1] = 0x02;
  const filler = block.subarray(2, 2 + fillerLength);
  randomFillSync(filler);
  for (let index = 0; index < filler.length; index++) {
    while (filler[index] === 0) filler[index] = randomFillSync(new Uint8Array(1))[0] ?? 1;
  }
  block.set(message, 3 + fillerLength);
  return block;
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
