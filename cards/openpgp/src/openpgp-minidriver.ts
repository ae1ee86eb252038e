/**
 * The minidriver contract mapped onto an OpenPGP card (docs/spec/openpgp.md §6.2), assembled from its
 * parts: the logical file system of @minidriver/card-kit (read-only `cardid`, in-context `cardcf`,
 * `cardapps`, `mscp/cmapfile` synthesised from the key slots, certificate files in the cardholder
 * certificate DO — {@link OpenPgpCertificateStore}), the containers ({@link OpenPgpContainers}), the PINs
 * ({@link OpenPgpAuthentication}), the private-key operations ({@link OpenPgpCrypto}) and the standard
 * properties. The card has nowhere standard to keep `cardcf`: the plugin answers CP_CACHE_MODE_NO_CACHE.
 * The plugin implements the newest form of each entry point; the session serves the version 4 forms.
 *
 * @packageDocumentation
 */
import { getStandardProperty, setStandardProperty, VirtualFileSystem } from '@minidriver/card-kit';
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
  CARD_KEY_IMPORT_PLAIN_TEXT,
  CacheMode,
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
  type DeriveKeyRequest,
  type DhAgreementRequest,
  type DirectoryName,
  eccKeySpecBits,
  isRsaKeySpec,
  type Minidriver,
  type PinId,
  type PinSet,
  type RsaDecryptRequest,
  ScardError,
  type SignDataRequest,
} from '@minidriver/spec';
import { OpenPgpApplication } from './openpgp-application.js';
import { OPENPGP_PIN_TABLE, OpenPgpAuthentication } from './openpgp-authentication.js';
import { CONTAINER_COUNT, DEFAULT_CONTAINER, OpenPgpCertificateStore } from './openpgp-certificates.js';
import { containerKeysOf, OpenPgpContainers, RSA_KEY_SIZES } from './openpgp-containers.js';
import { OpenPgpCrypto } from './openpgp-crypto.js';
import { cardIdFromAid, isSlotOccupied } from './openpgp-objects.js';

/** CardAcquireContext: SELECT the application and read its AID. */
export async function openOpenPgpMinidriver(context: CardContext): Promise<Minidriver> {
  const app = new OpenPgpApplication(context.transport);
  await app.selectApplication();
  const data = await app.readApplicationData();
  const pinKdfActive = await app.isPinKdfActive(data.extendedCapabilities);
  return new OpenPgpMinidriver(app, cardIdFromAid(data.aid), data.aid.serial, data.aid.version[0] >= 3, pinKdfActive);
}

/** The minidriver of one context on an OpenPGP card. */
class OpenPgpMinidriver implements Minidriver {
  readonly #app: OpenPgpApplication;
  readonly #cardId: Uint8Array;
  readonly #serial: Uint8Array;
  readonly #files: VirtualFileSystem;
  readonly #containers: OpenPgpContainers;
  readonly #auth: OpenPgpAuthentication;
  readonly #crypto: OpenPgpCrypto;

  constructor(
    app: OpenPgpApplication,
    cardId: Uint8Array,
    serial: Uint8Array,
    hasCertificateOccurrences: boolean,
    pinKdfActive: boolean,
  ) {
    this.#app = app;
    this.#cardId = cardId;
    this.#serial = serial;
    const certificates = new OpenPgpCertificateStore(app, hasCertificateOccurrences);
    this.#files = new VirtualFileSystem({
      cardId: async () => this.#cardId.slice(),
      containerCount: CONTAINER_COUNT,
      containerKeys: async () => containerKeysOf(await app.readApplicationData(), serial),
      certificates,
      certificateWriter: 'admin',
      defaultContainer: DEFAULT_CONTAINER,
    });
    this.#containers = new OpenPgpContainers(app, certificates);
    this.#auth = new OpenPgpAuthentication(app, pinKdfActive);
    this.#crypto = new OpenPgpCrypto(app);
  }

  async deleteContext(): Promise<void> {
    this.#crypto.agreements.clear();
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    return { certificateCompression: true, keyGeneration: true };
  }

  // Files: the kit's virtual file system over the OpenPGP objects.
  readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    return this.#files.readFile(directory, name);
  }
  writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    return this.#files.writeFile(directory, name, data);
  }
  createFile(directory: DirectoryName, name: string): Promise<void> {
    return this.#files.createFile(directory, name);
  }
  deleteFile(directory: DirectoryName, name: string): Promise<void> {
    return this.#files.deleteFile(directory, name);
  }
  enumFiles(directory: DirectoryName): Promise<string[]> {
    return this.#files.enumFiles(directory);
  }
  getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    return this.#files.getFileInfo(directory, name);
  }
  createDirectory(name: string): Promise<void> {
    return this.#files.createDirectory(name);
  }
  deleteDirectory(name: string): Promise<void> {
    return this.#files.deleteDirectory(name);
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    const data = await this.#app.readApplicationData();
    const free = ([0, 1, 2] as const).filter((slot) => !isSlotOccupied(data, slot)).length;
    return { bytesAvailable: CARD_DATA_VALUE_UNKNOWN, keyContainersAvailable: free, maxKeyContainers: CONTAINER_COUNT };
  }

  async queryKeySizes(keySpec: number): Promise<CardKeySizes> {
    if (isRsaKeySpec(keySpec)) return RSA_KEY_SIZES;
    const bits = eccKeySpecBits(keySpec);
    if (bits === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown key spec ${keySpec}`);
    return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 0 };
  }

  // Containers.
  getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    return this.#containers.getContainerInfo(containerIndex);
  }
  createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    return this.#containers.createContainerEx(containerIndex, request);
  }
  deleteContainer(containerIndex: number): Promise<void> {
    return this.#containers.deleteContainer(containerIndex);
  }
  getContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<ContainerPropertyTypes[K]> {
    return this.#containers.getContainerProperty(index, name);
  }

  // PINs.
  authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    return this.#auth.authenticateEx(pinId, flags, pinData);
  }
  changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    return this.#auth.changeAuthenticatorEx(request);
  }
  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    // Agreements were computed under the user's authentication: wiped on every deauthentication.
    this.#crypto.agreements.clear();
    await this.#auth.deauthenticateEx(pinSet);
  }

  // Cryptography.
  signData(request: SignDataRequest): Promise<Uint8Array> {
    return this.#crypto.signData(request);
  }
  rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    return this.#crypto.rsaDecrypt(request);
  }
  constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    return this.#crypto.constructDHAgreement(request);
  }
  deriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
    return this.#crypto.deriveKey(request);
  }
  destroyDHAgreement(agreementIndex: number): Promise<void> {
    return this.#crypto.destroyDHAgreement(agreementIndex);
  }

  // Properties.
  getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    return getStandardProperty(
      {
        freeSpace: () => this.queryFreeSpace(),
        capabilities: () => this.queryCapabilities(),
        keySizes: (keySpec) => this.queryKeySizes(keySpec),
        cardId: async () => this.#cardId.slice(),
        serialNumber: async () => this.#serial.slice(),
        pins: OPENPGP_PIN_TABLE,
        pinInfoOverride: async (pinId) => {
          const cachePolicy = await this.#auth.cachePolicy(pinId);
          return cachePolicy === undefined ? {} : { cachePolicy };
        },
        authenticatedState: () => this.#auth.authenticatedState(),
        cacheMode: CacheMode.NO_CACHE,
        x509Enrollment: false,
        keyImportSupport: CARD_KEY_IMPORT_PLAIN_TEXT,
        pinRetriesLeft: (pinId) => this.#auth.pinRetriesLeft(pinId),
      },
      name,
      flags,
    );
  }

  async setProperty<K extends CardPropertyName>(name: K): Promise<void> {
    setStandardProperty(name);
  }
}
