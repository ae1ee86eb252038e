/**
 * The minidriver contract mapped onto an OpenPGP card (docs/spec/openpgp.md §6.2), assembled from its
 * parts: the logical file system of @minidriver/card-kit (read-only `cardid`, in-context `cardcf`,
 * `cardapps`, `mscp/cmapfile` synthesised from the key slots, certificate files in the cardholder
 * certificate DO — {@link OpenPgpCertificateStore}), the containers ({@link OpenPgpContainers}), the PINs
 * ({@link OpenPgpAuthentication}), the private-key operations ({@link OpenPgpCrypto}) and the standard
 * properties. The card has nowhere standard to keep `cardcf`: {@link OpenPgpCardCf} keeps our counters in
 * a private use DO with a witness of the card's keys (GET DATA 6E), so the plugin answers
 * CP_CACHE_MODE_GLOBAL_CACHE and the session proves cached key data fresh in two GET DATA (docs/cache.md).
 * The plugin implements the newest form of each entry point; the session serves the version 4 forms.
 *
 * @packageDocumentation
 */
import { KitMinidriver, type StandardPropertySource, VirtualFileSystem } from '@minidriver/card-kit';
import {
  CARD_DATA_VALUE_UNKNOWN,
  CARD_KEY_IMPORT_PLAIN_TEXT,
  CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardFreeSpaceInfo,
  type CardKeySizes,
  eccKeySpecBits,
  isRsaKeySpec,
  type Minidriver,
  ScardError,
} from '@minidriver/spec';
import { OpenPgpApplication } from './openpgp-application.js';
import { OPENPGP_PIN_TABLE, OpenPgpAuthentication } from './openpgp-authentication.js';
import { ACQUIRED_APPLICATION_DATA, OpenPgpCardCf } from './openpgp-cardcf.js';
import { CONTAINER_COUNT, DEFAULT_CONTAINER, OpenPgpCertificateStore } from './openpgp-certificates.js';
import { containerKeysOf, OpenPgpContainers, RSA_KEY_SIZES } from './openpgp-containers.js';
import { OpenPgpCrypto } from './openpgp-crypto.js';
import { cardIdFromAid, decodeApplicationData, isSlotOccupied } from './openpgp-objects.js';

/** CardAcquireContext: SELECT the application and read its AID. */
export async function openOpenPgpMinidriver(context: CardContext): Promise<Minidriver> {
  const app = new OpenPgpApplication(context.transport);
  await app.selectApplication();
  const bytes = await app.readApplicationDataBytes();
  const data = decodeApplicationData(bytes);
  const pinKdfActive = await app.isPinKdfActive(data.extendedCapabilities);
  // The session reads cardcf in this same call (and transaction): it need not ask the card again.
  context.memo.set(ACQUIRED_APPLICATION_DATA, bytes);
  return new OpenPgpMinidriver(app, context, {
    cardId: cardIdFromAid(data.aid),
    serial: data.aid.serial,
    hasCertificateOccurrences: data.aid.version[0] >= 3,
    pinKdfActive,
    ...(data.maxResponseLength === undefined ? {} : { maxResponseLength: data.maxResponseLength }),
  });
}

/** What CardAcquireContext learnt about the card. */
interface AcquiredCard {
  readonly cardId: Uint8Array;
  readonly serial: Uint8Array;
  readonly hasCertificateOccurrences: boolean;
  readonly pinKdfActive: boolean;
  /** The card's extended length limit for responses (7F66), when it announces one. */
  readonly maxResponseLength?: number;
}

/** The minidriver of one context on an OpenPGP card. */
class OpenPgpMinidriver extends KitMinidriver implements Minidriver {
  readonly #app: OpenPgpApplication;
  readonly #cardId: Uint8Array;
  readonly #serial: Uint8Array;
  protected readonly files: VirtualFileSystem;
  protected readonly containers: OpenPgpContainers;
  protected readonly pins: OpenPgpAuthentication;
  protected readonly crypto: OpenPgpCrypto;

  constructor(app: OpenPgpApplication, context: CardContext, card: AcquiredCard) {
    super();
    const { cardId, serial, hasCertificateOccurrences, pinKdfActive, maxResponseLength } = card;
    this.#app = app;
    this.#cardId = cardId;
    this.#serial = serial;
    const certificates = new OpenPgpCertificateStore(app, hasCertificateOccurrences, maxResponseLength, context.cache);
    this.files = new VirtualFileSystem({
      cardId: async () => this.#cardId.slice(),
      containerCount: CONTAINER_COUNT,
      containerKeys: async () => containerKeysOf(await app.readApplicationData(), serial),
      certificates,
      certificateWriter: 'admin',
      defaultContainer: DEFAULT_CONTAINER,
      cardcf: new OpenPgpCardCf(app, context.memo),
    });
    this.containers = new OpenPgpContainers(app, certificates);
    this.pins = new OpenPgpAuthentication(app, pinKdfActive);
    this.crypto = new OpenPgpCrypto(app);
  }

  async queryCapabilities(): Promise<CardCapabilities> {
    return { certificateCompression: true, keyGeneration: true };
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

  // Containers: from KitMinidriver.

  // Properties.
  protected propertySource(): StandardPropertySource {
    return {
      freeSpace: () => this.queryFreeSpace(),
      capabilities: () => this.queryCapabilities(),
      keySizes: (keySpec) => this.queryKeySizes(keySpec),
      cardId: async () => this.#cardId.slice(),
      serialNumber: async () => this.#serial.slice(),
      pins: OPENPGP_PIN_TABLE,
      pinInfoOverride: async (pinId) => {
        const cachePolicy = await this.pins.cachePolicy(pinId);
        return cachePolicy === undefined ? {} : { cachePolicy };
      },
      authenticatedState: () => this.pins.authenticatedState(),
      cacheMode: CacheMode.GLOBAL_CACHE,
      x509Enrollment: false,
      keyImportSupport: CARD_KEY_IMPORT_PLAIN_TEXT,
      pinRetriesLeft: (pinId) => this.pins.pinRetriesLeft(pinId),
    };
  }
}
