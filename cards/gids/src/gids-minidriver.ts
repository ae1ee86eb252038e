/**
 * The minidriver contract (CARD_DATA 4 to 7) on a GIDS card (docs/spec/gids.md §7, docs/spec/minidriver.md),
 * assembled on @minidriver/card-kit from its parts: the card's own file system through the master file table
 * ({@link GidsFileSystem}: cardcf is kept on the card, so the cache mode is GLOBAL when the user may write it),
 * the containers as key files with the cmapfile and key map ({@link GidsContainers}), the user PIN and the admin
 * key as the challenge/response role ({@link GidsAuthentication}), signature, decryption and ECDH
 * ({@link GidsCrypto}) and the kit's standard properties. The plugin implements the newest form of each entry
 * point; the session serves the version 4 forms.
 *
 * @packageDocumentation
 */
import { KitMinidriver, type StandardPropertySource } from '@minidriver/card-kit';
import {
  CARD_DATA_VALUE_UNKNOWN,
  type CacheMode,
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
import { GidsApplication } from './gids-application.js';
import { GIDS_PIN_TABLE, GidsAuthentication } from './gids-authentication.js';
import { type CacheModeDecision, cacheModeOfCard } from './gids-card-policy.js';
import { MAX_CONTAINER_INDEX } from './gids-commands.js';
import { GidsContainers } from './gids-containers.js';
import { GidsCrypto } from './gids-crypto.js';
import { GidsFileSystem } from './gids-file-system.js';

/** Options of the GIDS plugin. */
export interface GidsMinidriverOptions {
  /**
   * CP_CARD_CACHE_MODE to answer instead of the card's own (GLOBAL when the user may write cardcf, else
   * SESSION_ONLY).
   */
  readonly cacheMode?: CacheMode;
}

const CONTAINER_COUNT = MAX_CONTAINER_INDEX + 1;

/** CardAcquireContext: SELECT the GIDS application (SCARD_E_UNKNOWN_CARD without it) and learn the cache mode. */
export async function openGidsMinidriver(
  context: CardContext,
  options: GidsMinidriverOptions = {},
): Promise<Minidriver> {
  const app = new GidsApplication(context.transport);
  await app.select();
  const files = new GidsFileSystem(app, context);
  const cache: CacheModeDecision =
    options.cacheMode === undefined
      ? await cacheModeOfCard(files)
      : { mode: options.cacheMode, reason: 'chosen by the plugin options' };
  return new GidsMinidriver(context, app, files, cache);
}

/** The minidriver of one GIDS card context. */
class GidsMinidriver extends KitMinidriver implements Minidriver {
  readonly #cache: CacheModeDecision;
  protected readonly files: GidsFileSystem;
  protected readonly containers: GidsContainers;
  protected readonly pins: GidsAuthentication;
  protected readonly crypto: GidsCrypto;

  constructor(context: CardContext, app: GidsApplication, files: GidsFileSystem, cache: CacheModeDecision) {
    super();
    this.#cache = cache;
    this.files = files;
    this.containers = new GidsContainers(app, files);
    this.pins = new GidsAuthentication(app);
    this.crypto = new GidsCrypto(context, app, this.containers);
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    // Certificates are stored as the caller writes them (the Base CSP's compressed format, which OpenSC reads).
    return { certificateCompression: false, keyGeneration: true };
  }

  async queryFreeSpace(): Promise<CardFreeSpaceInfo> {
    const { used } = await this.containers.usage();
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
    if (bits === undefined) throw new ScardError('SCARD_E_INVALID_PARAMETER', `key spec ${keySpec} is not defined`);
    return { minimumBitLength: bits, defaultBitLength: bits, maximumBitLength: bits, incrementalBitLength: 1 };
  }

  // Containers: from KitMinidriver, and GIDS's refusal to re-bind a key.
  setContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<void> {
    return this.containers.setContainerProperty(index, name);
  }

  // The admin key's challenge (the other PIN entry points come from KitMinidriver).
  getChallengeEx(pinId: PinId): Promise<Uint8Array> {
    return this.pins.getChallengeEx(pinId);
  }

  // Properties.
  protected propertySource(): StandardPropertySource {
    // OpenSC uses cardid as the serial number too.
    const cardId = () => this.files.readFile(null, 'cardid');
    return {
      freeSpace: () => this.queryFreeSpace(),
      capabilities: () => this.queryCapabilities(),
      keySizes: (keySpec) => this.queryKeySizes(keySpec),
      cardId,
      serialNumber: cardId,
      pins: GIDS_PIN_TABLE,
      authenticatedState: () => this.pins.authenticated,
      cacheMode: this.#cache.mode,
      cacheModeReason: this.#cache.reason,
      x509Enrollment: true,
      keyImportSupport: 0,
      pinRetriesLeft: (pinId) => this.pins.pinRetriesLeft(pinId),
    };
  }
}
