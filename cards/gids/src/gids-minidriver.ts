/**
 * @packageDocumentation
 * The minidriver contract (CARD_DATA v4..v7) on a GIDS card (docs/spec/gids.md §7, docs/spec/minidriver.md):
 * the card's own file system through the master file table, cardcf kept on the card (cache mode GLOBAL when
 * the user may write it), containers as key files with the cmapfile and key map, the user PIN, the admin key as
 * the challenge/response role (mutual authentication), signature, decryption, ECDH and key generation/import.
 */

import {
  DIGEST_INFO_PREFIX,
  decodeEccPrivateKeyBlob,
  decodeEccPublicKeyBlob,
  deriveKeyFromSecret,
  privateKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
  type CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardFileInfo,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type CardPropertyName,
  type CardPropertyTypes,
  type ChangeAuthenticatorRequest,
  type ContainerInfo,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  createPinSet,
  type DeriveKeyRequest,
  type DhAgreementRequest,
  type DirectoryAccessCondition,
  type DirectoryName,
  eccKeySpecBits,
  type FileAccessCondition,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
  leftPad,
  type Minidriver,
  type PinId,
  type PinSet,
  ROLE_ADMIN,
  ROLE_USER,
  type RsaDecryptRequest,
  reverseBytes,
  ScardError,
  type SignDataRequest,
  type UserId,
  wipe,
} from '@minidriver/spec';
import { GidsApplication } from './gids-application.js';
import { cacheModeOfCard, gidsPinInfo } from './gids-card-policy.js';
import { AlgorithmUse, MAX_CONTAINER_INDEX } from './gids-commands.js';
import { type ContainerKey, GidsContainers } from './gids-containers.js';
import { accessConditionOfEf, GidsFileSystem } from './gids-file-system.js';
import { type KeyRole, mechanismFor } from './gids-key-files.js';

/** Options of the GIDS plugin. */
export interface GidsMinidriverOptions {
  /**
   * CP_CARD_CACHE_MODE to answer instead of the card's own (GLOBAL when the user may write cardcf, else
   * SESSION_ONLY).
   */
  readonly cacheMode?: CacheMode;
}

const CONTAINER_COUNT = MAX_CONTAINER_INDEX + 1;
const PIN_LIST: PinSet = createPinSet(ROLE_USER, ROLE_ADMIN);
const ADMIN_KEY_LENGTH = 24;

function unsupported(message: string): never {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', message);
}

function invalid(message: string): never {
  throw new ScardError('SCARD_E_INVALID_PARAMETER', message);
}

const dir = (directory: DirectoryName): string => directory ?? '';

/** The minidriver of one GIDS card context. */
export class GidsMinidriver implements Minidriver {
  readonly #context: CardContext;
  readonly #app: GidsApplication;
  readonly #files: GidsFileSystem;
  readonly #containers: GidsContainers;
  readonly #cacheMode: CacheMode;
  /** Why the card runs in its cache mode (for diagnostics: `minidriver info`, traces). */
  readonly cacheModeReason: string;
  readonly #agreements = new Map<number, Uint8Array>();
  #authenticated: PinSet = 0;

  private constructor(
    context: CardContext,
    app: GidsApplication,
    files: GidsFileSystem,
    cache: { mode: CacheMode; reason: string },
  ) {
    this.#context = context;
    this.#app = app;
    this.#files = files;
    this.#containers = new GidsContainers(app, files);
    this.#cacheMode = cache.mode;
    this.cacheModeReason = cache.reason;
  }

  /** CardAcquireContext: SELECT the GIDS application (SCARD_E_UNKNOWN_CARD without it) and learn the cache mode. */
  static async open(context: CardContext, options: GidsMinidriverOptions = {}): Promise<GidsMinidriver> {
    const app = new GidsApplication(context.transport);
    await app.select();
    const files = new GidsFileSystem(app, context);
    const cache =
      options.cacheMode === undefined
        ? await cacheModeOfCard(app, files)
        : { mode: options.cacheMode, reason: 'chosen by the plugin options' };
    return new GidsMinidriver(context, app, files, cache);
  }

  /** The GIDS application, for operations outside the contract. */
  get application(): GidsApplication {
    return this.#app;
  }

  async deleteContext(): Promise<void> {
    for (const secret of this.#agreements.values()) wipe(secret);
    this.#agreements.clear();
    this.#app.forgetAdminChallenge();
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // Certificates are stored as the caller writes them (the Base CSP's compressed format, which OpenSC reads).
    return { certificateCompression: false, keyGeneration: true };
  }

  // Files ----------------------------------------------------------------------------------------------

  async readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    return this.#files.read(dir(directory), name);
  }

  async writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    await this.#files.write(dir(directory), name, data);
  }

  async createFile(
    directory: DirectoryName,
    name: string,
    _initialSize: number,
    accessCondition: FileAccessCondition,
  ): Promise<void> {
    await this.#files.create(dir(directory), name, accessCondition);
  }

  async deleteFile(directory: DirectoryName, name: string): Promise<void> {
    await this.#files.delete(dir(directory), name);
  }

  async enumFiles(directory: DirectoryName): Promise<string[]> {
    return this.#files.list(dir(directory));
  }

  async getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    const entry = await this.#files.entry(dir(directory), name);
    const data = await this.#files.read(dir(directory), name);
    return { size: data.length, accessCondition: accessConditionOfEf(entry.ef) };
  }

  async createDirectory(name: string, accessCondition: DirectoryAccessCondition): Promise<void> {
    await this.#files.createDirectory(name, accessCondition);
  }

  async deleteDirectory(name: string): Promise<void> {
    await this.#files.deleteDirectory(name);
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    const { used } = await this.#containers.usage();
    // GIDS has no standard object that reports free memory (docs/spec/gids.md §7): bytes unknown.
    return {
      bytesAvailable: CARD_DATA_VALUE_UNKNOWN,
      keyContainersAvailable: CONTAINER_COUNT - used,
      maxKeyContainers: CONTAINER_COUNT,
    };
  }

  async queryKeySizes(keySpec: number): Promise<CardKeySizes> {
    if (isRsaKeySpec(keySpec)) {
      return { minimumBitLength: 1024, defaultBitLength: 2048, maximumBitLength: 4096, incrementalBitLength: 1024 };
    }
    const bits = eccKeySpecBits(keySpec);
    if (bits === undefined) return invalid(`key spec ${keySpec} is not defined`);
    return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 1 };
  }

  // Containers -------------------------------------------------------------------------------------------

  async getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    return this.#containers.info(containerIndex);
  }

  async createContainer(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    await this.createContainerEx(containerIndex, { ...request, pinId: ROLE_USER });
  }

  async createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    if (request.pinId !== ROLE_USER) {
      unsupported('GIDS keys are guarded by the user PIN (their key files say so); no other PIN can be bound');
    }
    const spec = request.keySpec;
    const role: KeyRole =
      spec === KeySpec.AT_KEYEXCHANGE
        ? 'keyExchange'
        : spec === KeySpec.AT_SIGNATURE
          ? 'signature'
          : isEcdsaKeySpec(spec)
            ? 'ecdsa'
            : 'ecdh';
    if (request.mode === 'generate') {
      const mechanism = isRsaKeySpec(spec)
        ? mechanismFor('rsa', request.keySize)
        : mechanismFor('ec', eccKeySpecBits(spec) ?? 0);
      if (mechanism === undefined) invalid(`a GIDS card cannot hold a ${request.keySize}-bit key of key spec ${spec}`);
      await this.#containers.create(containerIndex, role, mechanism, async (reference) => {
        await this.#app.generateKey(mechanism, reference);
      });
      return;
    }
    const blob = request.keyData;
    if (blob === undefined) invalid('key import needs the key BLOB');
    const key = privateKeyBlobToKeyObject(blob);
    const rsa = key.asymmetricKeyType === 'rsa';
    if (rsa !== isRsaKeySpec(spec)) invalid(`the key BLOB does not hold a key of key spec ${spec}`);
    let mechanism: number | undefined;
    if (rsa) {
      mechanism = mechanismFor('rsa', key.asymmetricKeyDetails?.modulusLength ?? 0);
    } else {
      const decoded = decodeEccPrivateKeyBlob(blob);
      if ((decoded.use === 'ecdh') !== isEcdhKeySpec(spec) || eccKeySpecBits(spec) !== Number(decoded.curve.slice(2))) {
        invalid(`the key BLOB does not hold a key of key spec ${spec}`);
      }
      mechanism = mechanismFor('ec', Number(decoded.curve.slice(2)));
    }
    if (mechanism === undefined) invalid('a GIDS card cannot hold a key of that size');
    const der = new Uint8Array(key.export({ format: 'der', type: rsa ? 'pkcs1' : 'sec1' }));
    try {
      await this.#containers.create(containerIndex, role, mechanism, (reference) =>
        this.#app.importKey(reference, der, rsa),
      );
    } finally {
      wipe(der);
    }
  }

  async deleteContainer(containerIndex: number): Promise<void> {
    if (containerIndex > MAX_CONTAINER_INDEX) return;
    await this.#containers.delete(containerIndex);
  }

  async getContainerProperty<K extends ContainerPropertyName>(
    containerIndex: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    if (name === 'Container Info') return (await this.getContainerInfo(containerIndex)) as ContainerPropertyTypes[K];
    if (name === 'PIN Identifier') {
      await this.#containers.key(containerIndex);
      return ROLE_USER as ContainerPropertyTypes[K];
    }
    return unsupported(`container property "${name}" is not available on GIDS`);
  }

  async setContainerProperty<K extends ContainerPropertyName>(containerIndex: number, name: K): Promise<void> {
    await this.#containers.key(containerIndex);
    unsupported(`GIDS cannot change "${name}" of an existing key (its key file fixes the user PIN)`);
  }

  // PIN and admin key --------------------------------------------------------------------------------------

  async authenticatePin(userId: UserId, pin: Uint8Array): Promise<void> {
    if (userId === 'admin') unsupported('the GIDS administrator is the admin key: use challenge/response');
    await this.authenticateEx(ROLE_USER, 0, pin);
  }

  async getChallenge(): Promise<Uint8Array> {
    return this.getChallengeEx(ROLE_ADMIN);
  }

  async authenticateChallenge(response: Uint8Array): Promise<void> {
    await this.authenticateEx(ROLE_ADMIN, 0, response);
  }

  async getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    if (pinId !== ROLE_ADMIN) invalid(`PIN ${pinId} is not a challenge/response PIN`);
    this.#authenticated &= ~createPinSet(ROLE_ADMIN);
    return this.#app.beginAdminAuthentication();
  }

  async #answerChallenge(response: Uint8Array): Promise<void> {
    this.#authenticated &= ~createPinSet(ROLE_ADMIN);
    if (!this.#app.adminAuthenticationPending) {
      throw new ScardError('SCARD_W_WRONG_CHV', 'no challenge is outstanding: call CardGetChallenge first');
    }
    await this.#app.completeAdminAuthentication(response);
    this.#authenticated |= createPinSet(ROLE_ADMIN);
  }

  async authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    if ((flags & 0x30000000) !== 0) unsupported('GIDS has no session PINs');
    if (pinData === undefined) invalid('PIN data is required');
    if (pinId === ROLE_ADMIN) {
      await this.#answerChallenge(pinData);
      return {};
    }
    if (pinId !== ROLE_USER) invalid(`PIN ${pinId} does not exist on this card`);
    this.#authenticated &= ~createPinSet(ROLE_USER);
    await this.#app.verifyPin(pinData);
    this.#authenticated |= createPinSet(ROLE_USER);
    return {};
  }

  async unblockPin(
    _userId: 'user',
    authenticationData: Uint8Array,
    newPin: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    if (mode === 'pin') unsupported('GIDS unblocks the PIN with the admin key (challenge/response), not with a PUK');
    await this.changeAuthenticatorEx({
      operation: 'unblock',
      authenticatingPinId: ROLE_ADMIN,
      authenticatingData: authenticationData,
      targetPinId: ROLE_USER,
      targetData: newPin,
      retryCount,
      silent: false,
    });
  }

  async changeAuthenticator(
    userId: UserId,
    currentAuthenticator: Uint8Array,
    newAuthenticator: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void> {
    const pinId: PinId = userId === 'admin' ? ROLE_ADMIN : ROLE_USER;
    if ((pinId === ROLE_ADMIN) !== (mode === 'challenge-response')) {
      invalid('the GIDS user has a PIN and the administrator a challenge/response key');
    }
    await this.changeAuthenticatorEx({
      operation: 'change',
      authenticatingPinId: pinId,
      authenticatingData: currentAuthenticator,
      targetPinId: pinId,
      targetData: newAuthenticator,
      retryCount,
      silent: false,
    });
  }

  async changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    if (request.retryCount !== 0) unsupported('GIDS cannot set a retry count while changing a PIN (use 0)');
    const { targetPinId: target, authenticatingPinId: source } = request;
    if ((PIN_LIST & createPinSet(target)) === 0 || (PIN_LIST & createPinSet(source)) === 0)
      invalid('no such PIN on this card');
    if (request.operation === 'unblock') {
      if (target !== ROLE_USER) invalid('only the user PIN can be unblocked');
      if (source !== ROLE_ADMIN)
        throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'only the admin key unblocks the GIDS PIN');
      await this.#answerChallenge(request.authenticatingData);
      await this.#app.resetPin(request.targetData);
      // The card forgets the admin after RESET RETRY COUNTER. The new PIN is verified at once so the user is
      // logged in with it, as after a PIN change — and cardcf (user-writable) can record the change.
      this.#authenticated = 0;
      await this.#app.verifyPin(request.targetData);
      this.#authenticated = createPinSet(ROLE_USER);
      return;
    }
    if (source !== target)
      throw new ScardError('SCARD_W_SECURITY_VIOLATION', `PIN ${source} cannot change PIN ${target}`);
    if (target === ROLE_USER) {
      await this.#app.changePin(request.authenticatingData, request.targetData);
      this.#authenticated |= createPinSet(ROLE_USER);
      return;
    }
    if (request.targetData.length !== ADMIN_KEY_LENGTH) invalid('the new admin key must be 24 bytes (3DES)');
    await this.#answerChallenge(request.authenticatingData);
    await this.#app.setAdminKey(request.targetData);
  }

  async deauthenticate(userId: UserId): Promise<void> {
    await this.deauthenticateEx(createPinSet(userId === 'admin' ? ROLE_ADMIN : ROLE_USER));
  }

  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    const wanted = pinSet & PIN_LIST;
    if (wanted === 0) return;
    const keepsUser = (wanted & createPinSet(ROLE_USER)) === 0 && (this.#authenticated & createPinSet(ROLE_USER)) !== 0;
    if (keepsUser)
      unsupported('GIDS cannot log out the admin key while keeping the PIN verified (VERIFY 82 drops both)');
    await this.#app.deauthenticateAll();
    this.#app.forgetAdminChallenge();
    this.#authenticated = 0;
    // An agreement does not outlive the authentication it was computed under.
    for (const secret of this.#agreements.values()) wipe(secret);
    this.#agreements.clear();
  }

  // Cryptography ---------------------------------------------------------------------------------------------

  async #key(index: number, roles: readonly KeyRole[], what: string): Promise<ContainerKey> {
    const key = await this.#containers.key(index);
    if (!roles.includes(key.role))
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no ${what}`);
    return key;
  }

  async signData(request: SignDataRequest): Promise<Uint8Array> {
    if (isEcdhKeySpec(request.keySpec)) invalid('an ECDH key cannot sign');
    if (isRsaKeySpec(request.keySpec)) {
      const wanted: KeyRole = request.keySpec === KeySpec.AT_SIGNATURE ? 'signature' : 'keyExchange';
      const key = await this.#key(request.containerIndex, [wanted], `${wanted} RSA key`);
      const modulusBytes = key.bits / 8;
      const padding = request.padding;
      let signature: Uint8Array;
      if (padding.type === 'pkcs1') {
        // The card pads PKCS #1 v1.5 itself (algorithm 5x): it gets the DigestInfo.
        const prefix = padding.hashAlgorithm === null ? new Uint8Array(0) : DIGEST_INFO_PREFIX[padding.hashAlgorithm];
        const digestInfo = Uint8Array.from([...prefix, ...request.data]);
        if (digestInfo.length > modulusBytes - 11) invalid('the data is too long for the key');
        signature = await this.#app.sign(key.keyReference, AlgorithmUse.signPkcs1 | key.mechanism, digestInfo);
      } else {
        const block = this.#context.padData(request, modulusBytes);
        try {
          signature = await this.#app.sign(key.keyReference, AlgorithmUse.signHashOffCard | key.mechanism, block);
        } finally {
          wipe(block);
        }
      }
      if (signature.length > modulusBytes)
        throw new ScardError('SCARD_E_UNEXPECTED', 'the card returned a signature longer than the modulus');
      return reverseBytes(leftPad(signature, modulusBytes));
    }
    const bits = eccKeySpecBits(request.keySpec);
    const key = await this.#key(request.containerIndex, ['ecdsa'], 'ECDSA key');
    if (key.bits !== bits)
      throw new ScardError(
        'SCARD_E_NO_KEY_CONTAINER',
        `container ${request.containerIndex} has no ECDSA key of that curve`,
      );
    const signature = await this.#app.sign(
      key.keyReference,
      AlgorithmUse.signHashOffCard | key.mechanism,
      request.data,
    );
    if (signature.length !== 2 * Math.ceil(key.bits / 8))
      throw new ScardError('SCARD_E_UNEXPECTED', 'the card returned a malformed ECDSA signature');
    return signature;
  }

  async rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    if (request.keySpec !== KeySpec.AT_KEYEXCHANGE) invalid('RSA decryption needs AT_KEYEXCHANGE');
    const key = await this.#key(request.containerIndex, ['keyExchange'], 'RSA key-exchange key');
    const modulusBytes = key.bits / 8;
    if (request.data.length < modulusBytes)
      throw new ScardError('SCARD_E_INSUFFICIENT_BUFFER', `the ciphertext must be ${modulusBytes} bytes`);
    if (request.data.length > modulusBytes) invalid(`the ciphertext must be ${modulusBytes} bytes`);
    const ciphertext = reverseBytes(request.data);
    // Raw decipherment (algorithm 0x): the padding is removed on the host, so OAEP with any hash works.
    let block: Uint8Array;
    try {
      block = leftPad(
        await this.#app.decipher(key.keyReference, AlgorithmUse.raw | key.mechanism, ciphertext),
        modulusBytes,
      );
    } catch (error) {
      if (ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER'))
        invalid('the ciphertext is not smaller than the modulus');
      throw error;
    }
    try {
      if (request.padding.type === 'none') return reverseBytes(block);
      const message = this.#context.unpadData(block, request.padding);
      try {
        return reverseBytes(message);
      } finally {
        wipe(message);
      }
    } finally {
      wipe(block);
    }
  }

  async constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    const key = await this.#key(request.containerIndex, ['ecdh'], 'ECDH key');
    const peer = decodeEccPublicKeyBlob(request.publicKey);
    if (peer.use !== 'ecdh' || Number(peer.curve.slice(2)) !== key.bits)
      invalid(`the peer key is not an ECDH P-${key.bits} public key`);
    let index = 0;
    while (this.#agreements.has(index)) index++;
    if (index > 255) throw new ScardError('SCARD_E_NO_MEMORY', 'all 256 agreement slots are in use');
    const point = Uint8Array.from([0x04, ...peer.x, ...peer.y]);
    const secret = await this.#app.decipher(key.keyReference, AlgorithmUse.raw | key.mechanism, point);
    this.#agreements.set(index, secret);
    return index;
  }

  async deriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
    const secret = this.#agreements.get(request.agreementIndex);
    if (secret === undefined) invalid(`agreement ${request.agreementIndex} does not exist`);
    return deriveKeyFromSecret(secret, request);
  }

  async destroyDHAgreement(agreementIndex: number): Promise<void> {
    const secret = this.#agreements.get(agreementIndex);
    if (secret === undefined) invalid(`agreement ${agreementIndex} does not exist`);
    wipe(secret);
    this.#agreements.delete(agreementIndex);
  }

  // Properties ---------------------------------------------------------------------------------------------

  async getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    const answer = async (): Promise<unknown> => {
      switch (name) {
        case 'Free Space':
          return this.queryFreeSpace();
        case 'Capabilities':
          return this.queryCapabilities();
        case 'Key Sizes':
          return this.queryKeySizes(flags);
        case 'Read Only Mode':
          return false;
        case 'Cache Mode':
          return this.#cacheMode;
        case 'Supports Windows x.509 Enrollment':
          return true;
        case 'Card Identifier':
        case 'Card Serial Number':
          // OpenSC uses cardid as the serial number too.
          return this.#files.read('', 'cardid');
        case 'PIN Information':
          return gidsPinInfo(flags);
        case 'PIN List':
          return PIN_LIST;
        case 'Authenticated State':
          return this.#authenticated;
        case 'PIN Strength Verify':
        case 'PIN Strength Change':
        case 'PIN Strength Unblock':
          gidsPinInfo(flags);
          return 1;
        case 'Key Import Support':
          return 0;
        case 'minidriver:PIN Retries Left':
          gidsPinInfo(flags);
          return flags === ROLE_USER ? (await this.#app.pinStatus()).triesLeft : CARD_DATA_VALUE_UNKNOWN;
        case 'Parent Window':
        case 'PIN Context String':
          return invalid(`"${name}" is write-only`);
        default:
          return unsupported(`card property "${name}" (secure key injection is not supported)`);
      }
    };
    return (await answer()) as CardPropertyTypes[K];
  }

  async setProperty<K extends CardPropertyName>(name: K, _value: CardPropertyTypes[K], _flags: number): Promise<void> {
    if (name === 'Parent Window' || name === 'PIN Context String') return;
    unsupported(`card property "${name}" cannot be set on GIDS`);
  }
}
