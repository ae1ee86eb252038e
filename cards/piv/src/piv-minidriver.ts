/**
 * The minidriver contract (CARD_DATA 4 to 7) on a PIV card, assembled from its parts: the logical file
 * system of @minidriver/card-kit over the PIV objects ({@link PivCardState}, {@link PivCertificateStore}),
 * the containers ({@link PivContainers}), PINs and the management key ({@link PivAuthentication}), the
 * private-key operations ({@link PivCrypto}) and the standard properties. The plugin implements the newest
 * form of each entry point; the session serves the version 4 forms. README.md of this package records
 * every design decision (docs/spec/piv.md §10, docs/spec/minidriver.md §4-9).
 *
 * @packageDocumentation
 */
import {
  getStandardProperty,
  type InContextCacheMode,
  setStandardProperty,
  VirtualFileSystem,
} from '@minidriver/card-kit';
import {
  type AuthenticateExResult,
  CARD_DATA_VALUE_UNKNOWN,
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
import { PivApplication } from './piv-application.js';
import { PIV_PIN_TABLE, PivAuthentication } from './piv-authentication.js';
import { PivCardState, versionAtLeast } from './piv-card-state.js';
import { PivCertificateStore } from './piv-certificates.js';
import { PivContainers } from './piv-containers.js';
import { PivCrypto } from './piv-crypto.js';
import { NON_GOVERNMENT_FASCN_PREFIX } from './piv-objects.js';
import { CONTAINER_SLOTS, PIV_CONTAINER_COUNT } from './piv-slots.js';

/** Options of the PIV plugin ({@link createPivPlugin} in the package index). */
export interface PivMinidriverOptions {
  /**
   * CP_CARD_CACHE_MODE to answer. Default NO_CACHE: the spec's mode for "cards whose state can change but
   * that cannot maintain cardcf" (a PIV card is changed by ykman, yubico-piv-tool, OpenSC without any
   * freshness counter). SESSION_ONLY may be chosen where nothing else writes the card during an insertion.
   */
  readonly cacheMode?: InContextCacheMode;
}

/** CardAcquireContext: SELECT PIV (SCARD_E_UNKNOWN_CARD without it) and GET VERSION (YubiKey-class cards). */
export async function openPivMinidriver(context: CardContext, options: PivMinidriverOptions = {}): Promise<Minidriver> {
  const app = new PivApplication(context.transport);
  await app.select();
  const firmware = await app.getVersion();
  return new PivMinidriver(context, new PivCardState(context, app, firmware), options.cacheMode ?? CacheMode.NO_CACHE);
}

/** The minidriver of one PIV card context. */
class PivMinidriver implements Minidriver {
  readonly #state: PivCardState;
  readonly #cacheMode: CacheMode;
  readonly #files: VirtualFileSystem;
  readonly #containers: PivContainers;
  readonly #auth: PivAuthentication;
  readonly #crypto: PivCrypto;

  constructor(context: CardContext, state: PivCardState, cacheMode: CacheMode) {
    this.#state = state;
    this.#cacheMode = cacheMode;
    this.#files = new VirtualFileSystem({
      cardId: () => state.cardId(),
      containerCount: PIV_CONTAINER_COUNT,
      containerKeys: () => state.containerKeys(),
      certificates: new PivCertificateStore(state),
      certificateWriter: 'admin',
    });
    this.#containers = new PivContainers(state);
    this.#auth = new PivAuthentication(context, state.app, state.hasMetadata);
    this.#crypto = new PivCrypto(context, state, this.#auth);
  }

  async deleteContext(): Promise<void> {
    this.#crypto.agreements.clear();
    this.#auth.clear();
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // The plugin inflates PIV's gzip certificates itself and hands out DER: the caller need not compress.
    return { certificateCompression: true, keyGeneration: true };
  }

  // Files: the kit's virtual file system over the PIV objects.
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
    let used = 0;
    for (const slot of CONTAINER_SLOTS) if ((await this.#state.slot(slot)) !== null) used++;
    // PIV has no command that reports free memory: bytes unknown; containers are the free slots.
    return {
      bytesAvailable: CARD_DATA_VALUE_UNKNOWN,
      keyContainersAvailable: PIV_CONTAINER_COUNT - used,
      maxKeyContainers: PIV_CONTAINER_COUNT,
    };
  }

  async queryKeySizes(keySpec: number): Promise<CardKeySizes> {
    if (isRsaKeySpec(keySpec)) {
      const maximum = versionAtLeast(this.#state.firmware, 5, 7) ? 4096 : 2048;
      return { minimumBitLength: 1024, defaultBitLength: 2048, maximumBitLength: maximum, incrementalBitLength: 1024 };
    }
    const bits = eccKeySpecBits(keySpec);
    if (bits === 256 || bits === 384) {
      return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 1 };
    }
    if (bits === 521) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'PIV has no P-521 keys');
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `key spec ${keySpec} is not defined`);
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
  setContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<void> {
    return this.#containers.setContainerProperty(index, name);
  }

  // PINs and the management key.
  getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    return this.#auth.getChallengeEx(pinId);
  }
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
  async #serialNumber(): Promise<Uint8Array> {
    const chuid = await this.#state.app.getChuid();
    const fascn = chuid?.fascn;
    const governmentFascn =
      fascn !== undefined &&
      fascn.length === 25 &&
      !NON_GOVERNMENT_FASCN_PREFIX.every((byte, index) => fascn[index] === byte);
    if (!governmentFascn && chuid?.guid !== undefined && chuid.guid.some((byte) => byte !== 0)) {
      return new Uint8Array(chuid.guid);
    }
    if (fascn !== undefined) return new Uint8Array(fascn);
    const serial = await this.#state.app.getSerial();
    if (serial === undefined)
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'the card has no CHUID and no serial number');
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, serial);
    return bytes;
  }

  getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    return getStandardProperty(
      {
        freeSpace: () => this.queryFreeSpace(),
        capabilities: () => this.queryCapabilities(),
        keySizes: (keySpec) => this.queryKeySizes(keySpec),
        cardId: () => this.#state.cardId(),
        serialNumber: () => this.#serialNumber(),
        pins: PIV_PIN_TABLE,
        pinInfoOverride: async (pinId) => {
          const type = this.#auth.pinType(pinId);
          return type === undefined ? {} : { type };
        },
        authenticatedState: () => this.#auth.authenticated,
        cacheMode: this.#cacheMode,
        x509Enrollment: true,
        keyImportSupport: 0,
        pinRetriesLeft: (pinId) => this.#auth.pinRetriesLeft(pinId),
      },
      name,
      flags,
    );
  }

  async setProperty<K extends CardPropertyName>(name: K): Promise<void> {
    // PIV PINs are typed on the host: no instruction window needs the parent window or the context string.
    setStandardProperty(name);
  }
}
