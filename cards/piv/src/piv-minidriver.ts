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
  type InContextCacheMode,
  KitMinidriver,
  type StandardPropertySource,
  VirtualFileSystem,
} from '@minidriver/card-kit';
import {
  CARD_DATA_VALUE_UNKNOWN,
  CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  type ContainerPropertyName,
  eccKeySpecBits,
  isRsaKeySpec,
  type Minidriver,
  type PinId,
  ScardError,
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
class PivMinidriver extends KitMinidriver implements Minidriver {
  readonly #state: PivCardState;
  readonly #cacheMode: CacheMode;
  protected readonly files: VirtualFileSystem;
  protected readonly containers: PivContainers;
  protected readonly pins: PivAuthentication;
  protected readonly crypto: PivCrypto;

  constructor(context: CardContext, state: PivCardState, cacheMode: CacheMode) {
    super();
    this.#state = state;
    this.#cacheMode = cacheMode;
    this.files = new VirtualFileSystem({
      cardId: () => state.cardId(),
      containerCount: PIV_CONTAINER_COUNT,
      containerKeys: () => state.containerKeys(),
      certificates: new PivCertificateStore(state),
      certificateWriter: 'admin',
    });
    this.containers = new PivContainers(state);
    this.pins = new PivAuthentication(context, state.app, state.hasMetadata);
    this.crypto = new PivCrypto(context, state, this.pins);
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // The plugin inflates PIV's gzip certificates itself and hands out DER: the caller need not compress.
    return { certificateCompression: true, keyGeneration: true };
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

  // Containers: from KitMinidriver, and PIV's refusal to re-bind a key.
  setContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<void> {
    return this.containers.setContainerProperty(index, name);
  }

  // The management key's challenge (the other PIN entry points come from KitMinidriver).
  getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    return this.pins.getChallengeEx(pinId);
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

  protected propertySource(): StandardPropertySource {
    return {
      freeSpace: () => this.queryFreeSpace(),
      capabilities: () => this.queryCapabilities(),
      keySizes: (keySpec) => this.queryKeySizes(keySpec),
      cardId: () => this.#state.cardId(),
      serialNumber: () => this.#serialNumber(),
      pins: PIV_PIN_TABLE,
      pinInfoOverride: async (pinId) => {
        const type = this.pins.pinType(pinId);
        return type === undefined ? {} : { type };
      },
      authenticatedState: () => this.pins.authenticated,
      cacheMode: this.#cacheMode,
      x509Enrollment: true,
      keyImportSupport: 0,
      pinRetriesLeft: (pinId) => this.pins.pinRetriesLeft(pinId),
    };
  }
}
