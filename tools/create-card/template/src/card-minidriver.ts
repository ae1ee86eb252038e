/**
 * The minidriver of the __CARD_NAME__ card, on @minidriver/card-kit: the kit answers the file entry points
 * (from a `VirtualFileSystem` over the card's id, keys and certificate objects), the standard properties
 * (from a `PinRoleTable` and this class), and the DH agreement bookkeeping; this file holds only what is
 * specific to the card: its PINs, containers and signatures.
 *
 * Logical file system (docs/writing-a-plugin.md, "The logical file system"):
 *
 * | file            | from                                               |
 * |-----------------|----------------------------------------------------|
 * | cardid          | GET DATA 01: the card's 16-byte serial              |
 * | cardcf          | kept in the context (the kit's InContextCardCf)    |
 * | cardapps        | `mscp`                                             |
 * | mscp/cmapfile   | made from the containers that hold a key           |
 * | mscp/kscNN      | GET DATA / PUT DATA 10+NN: container NN's cert     |
 *
 * Cache mode NO_CACHE: cmapfile is made from the keys and cardcf lives in the context, so nothing on the
 * card tells another process that a cached file went stale (see "Cache modes" in the guide).
 *
 * @packageDocumentation
 */
import {
  type CertificateFileKind,
  type CertificateFileRef,
  type CertificateFileStore,
  type ContainerKeySummary,
  cardIdToGuidString,
  DhAgreements,
  encodeEccPublicKeyBlob,
  KitMinidriver,
  PinRoleTable,
  requireNoRetryCountChange,
  type StandardPropertySource,
  UNBLOCK_PIN_ID,
  VirtualFileSystem,
} from '@minidriver/card-kit';
import {
  CARD_DATA_VALUE_UNKNOWN,
  CacheMode,
  type CardCapabilities,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type ChangeAuthenticatorRequest,
  type ContainerInfo,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  type CreateContainerRequest,
  createPinSet,
  isPinInSet,
  KeySpec,
  type Minidriver,
  type PinId,
  type PinSet,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
  type SignDataRequest,
} from '@minidriver/spec';
import { type CardApplication, PutMode } from './card-commands.js';
import { CONTAINER_COUNT, DataObject } from './card-profile.js';

/** The card's PINs: the user PIN, unblocked by the PUK (id 3, it only unblocks). */
export const PIN_TABLE = new PinRoleTable([
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [UNBLOCK_PIN_ID],
  },
  {
    id: UNBLOCK_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changedBy: [],
    unblockedBy: [],
  },
]);

const P256: CardKeySizes = {
  minimumBitLength: 256,
  defaultBitLength: 256,
  maximumBitLength: 256,
  incrementalBitLength: 0,
};

const unsupported = (feature: string): never => {
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${feature} is not supported by this card`);
};

const noKey = (index: number): never => {
  throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} is empty`);
};

/** The card's certificate objects as `mscp/kscNN` (its keys are signature keys: no `kxcNN`). */
class CardCertificates implements CertificateFileStore {
  constructor(private readonly card: CardApplication) {}

  async read(index: number, kind: CertificateFileKind): Promise<Uint8Array | undefined> {
    if (kind !== 'ksc' || index >= CONTAINER_COUNT) return undefined;
    return this.card.getData(DataObject.CERTIFICATE_BASE + index);
  }

  async write(index: number, kind: CertificateFileKind, der: Uint8Array): Promise<void> {
    if (kind !== 'ksc' || index >= CONTAINER_COUNT) {
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `container ${index} holds no ${kind} certificate`);
    }
    await this.card.putData(DataObject.CERTIFICATE_BASE + index, PutMode.WRITE, der);
  }

  async delete(index: number): Promise<void> {
    await this.card.putData(DataObject.CERTIFICATE_BASE + index, PutMode.DELETE);
  }

  async list(): Promise<CertificateFileRef[]> {
    const files: CertificateFileRef[] = [];
    for (let index = 0; index < CONTAINER_COUNT; index++) {
      if ((await this.read(index, 'ksc')) !== undefined) files.push({ containerIndex: index, kind: 'ksc' });
    }
    return files;
  }
}

/** The minidriver of one card context (CardAcquireContext has selected the application). */
export class CardMinidriver extends KitMinidriver implements Minidriver {
  readonly #card: CardApplication;
  #authenticated: PinSet = 0;
  protected readonly files: VirtualFileSystem;
  protected readonly containers;
  protected readonly pins;
  protected readonly crypto;

  constructor(card: CardApplication) {
    super();
    this.#card = card;
    this.files = new VirtualFileSystem({
      cardId: () => this.#cardId(),
      containerCount: CONTAINER_COUNT,
      containerKeys: () => this.#containerKeys(),
      certificates: new CardCertificates(card),
      certificateWriter: 'user',
    });
    this.containers = {
      getContainerInfo: (index: number) => this.#containerInfo(index),
      createContainerEx: (index: number, request: CreateContainerRequest) => this.#createContainer(index, request),
      // Deleting an empty container succeeds (docs/spec/minidriver.md §5.4.3).
      deleteContainer: async (index: number) => {
        if (index < CONTAINER_COUNT) await card.deleteKey(index);
      },
      getContainerProperty: async <K extends ContainerPropertyName>(index: number, name: K) => {
        if (name === 'Container Info') return (await this.#containerInfo(index)) as ContainerPropertyTypes[K];
        if (name !== 'PIN Identifier') return unsupported(`container property "${name}"`);
        await this.#containerInfo(index);
        return ROLE_USER as ContainerPropertyTypes[K];
      },
    };
    this.pins = {
      authenticateEx: async (pinId: PinId, _flags: number, pin: Uint8Array | undefined) => {
        if (pinId === UNBLOCK_PIN_ID) unsupported('authenticating with the PUK (it only unblocks)');
        PIN_TABLE.role(pinId);
        if (pin === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'no PIN given');
        try {
          await card.verify(pin);
          this.#authenticated |= createPinSet(ROLE_USER);
        } catch (error) {
          this.#authenticated &= ~createPinSet(ROLE_USER);
          throw error;
        }
        return {};
      },
      changeAuthenticatorEx: (request: ChangeAuthenticatorRequest) => this.#changePin(request),
      deauthenticateEx: async (pinSet: PinSet) => {
        if (isPinInSet(pinSet, ROLE_USER)) await card.logOut();
        this.#authenticated &= ~pinSet;
      },
    };
    this.crypto = {
      agreements: new DhAgreements(),
      signData: (request: SignDataRequest) => this.#sign(request),
      rsaDecrypt: async (): Promise<Uint8Array> => unsupported('RSA decryption'),
      constructDHAgreement: async (): Promise<number> => unsupported('ECDH'),
    };
  }

  protected override async releaseContext(): Promise<void> {
    this.#authenticated = 0;
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // certificateCompression: the kit's file system takes a certificate file in either form and keeps DER,
    // so callers need not compress (docs/spec/minidriver.md §4.4).
    return { certificateCompression: true, keyGeneration: true };
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    const used = (await this.#containerKeys()).filter((key) => key !== null).length;
    return {
      bytesAvailable: CARD_DATA_VALUE_UNKNOWN,
      keyContainersAvailable: CONTAINER_COUNT - used,
      maxKeyContainers: CONTAINER_COUNT,
    };
  }

  async queryKeySizes(keySpec: number): Promise<CardKeySizes> {
    return keySpec === KeySpec.AT_ECDSA_P256 ? P256 : unsupported(`key spec ${keySpec} (only ECDSA P-256)`);
  }

  protected propertySource(): StandardPropertySource {
    return {
      freeSpace: () => this.queryFreeSpace(),
      capabilities: () => this.queryCapabilities(),
      keySizes: (keySpec) => this.queryKeySizes(keySpec),
      cardId: () => this.#cardId(),
      serialNumber: () => this.#cardId(),
      pins: PIN_TABLE,
      authenticatedState: () => this.#authenticated,
      cacheMode: CacheMode.NO_CACHE,
      x509Enrollment: true,
      pinRetriesLeft: async (pinId) =>
        pinId === ROLE_USER ? ((await this.#card.pinTriesLeft()) ?? CARD_DATA_VALUE_UNKNOWN) : CARD_DATA_VALUE_UNKNOWN,
    };
  }

  async #cardId(): Promise<Uint8Array> {
    const id = await this.#card.getData(DataObject.CARD_ID);
    if (id?.length !== 16) throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card id is not 16 bytes');
    return id;
  }

  async #containerKeys(): Promise<(ContainerKeySummary | null)[]> {
    const guid = cardIdToGuidString(await this.#cardId()).replace(/[{}-]/g, '');
    const keys: (ContainerKeySummary | null)[] = [];
    for (let index = 0; index < CONTAINER_COUNT; index++) {
      const point = await this.#card.readPublicKey(index);
      keys.push(
        point === undefined
          ? null
          : { half: 'signature', bits: 256, name: `${index.toString(16).padStart(2, '0')}${guid.slice(2)}` },
      );
    }
    return keys;
  }

  async #containerInfo(index: number): Promise<ContainerInfo> {
    const point = index < CONTAINER_COUNT ? await this.#card.readPublicKey(index) : undefined;
    if (point?.length !== 65) return noKey(index);
    const key = { curve: 'P-256' as const, x: point.slice(1, 33), y: point.slice(33, 65) };
    return { signaturePublicKey: encodeEccPublicKeyBlob(key, 'ecdsa') };
  }

  async #createContainer(index: number, request: CreateContainerRequest): Promise<void> {
    if (index >= CONTAINER_COUNT) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `the card has containers 0 to ${CONTAINER_COUNT - 1}`);
    }
    if (request.mode !== 'generate') unsupported('key import');
    if (request.keySpec !== KeySpec.AT_ECDSA_P256) unsupported(`key spec ${request.keySpec} (only ECDSA P-256)`);
    await this.#card.generateKey(index);
  }

  async #changePin(request: ChangeAuthenticatorRequest): Promise<void> {
    requireNoRetryCountChange(request.retryCount);
    if (request.targetPinId !== ROLE_USER) unsupported(`changing PIN ${request.targetPinId}`);
    if (request.operation === 'change' && request.authenticatingPinId === ROLE_USER) {
      await this.#card.changePin(request.authenticatingData, request.targetData);
    } else if (request.operation === 'unblock' && request.authenticatingPinId === (UNBLOCK_PIN_ID as PinId)) {
      await this.#card.unblockPin(request.authenticatingData, request.targetData);
    } else {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `PIN ${request.authenticatingPinId} cannot ${request.operation} PIN ${request.targetPinId}`,
      );
    }
  }

  async #sign(request: SignDataRequest): Promise<Uint8Array> {
    const index = request.containerIndex;
    if (index >= CONTAINER_COUNT || (await this.#card.readPublicKey(index)) === undefined) return noKey(index);
    if (request.keySpec !== KeySpec.AT_ECDSA_P256 && request.keySpec !== KeySpec.AT_SIGNATURE) {
      unsupported(`signing with key spec ${request.keySpec}`);
    }
    return this.#card.sign(index, request.data);
  }
}
