/**
 * CardSession: the card interface layer an application uses (the part of the Base CSP / KSP that
 * drives a minidriver, docs/spec/minidriver.md §1.2, §4.8, §5, §10). It negotiates the CARD_DATA version, validates every
 * parameter before the plugin sees it, holds one card transaction around each call (never around
 * close), keeps the data cache validated by cardcf, and returns copies.
 *
 * @packageDocumentation
 */
import {
  type ApduTraceHook,
  CARD_SECURE_KEY_INJECTION_NO_CARD_MODE,
  type CacheMode,
  type CardCapabilities,
  type CardContext,
  type CardDataVersion,
  type CardEncryptedData,
  type CardFileInfo,
  type CardFreeSpaceInfo,
  type CardKeyHandle,
  type CardKeySizes,
  type CardPropertyName,
  type CardPropertyTypes,
  type ContainerInfo,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
  ENTRY_POINT_VERSION,
  type EntryPointName,
  type Minidriver,
  type MinidriverPlugin,
  NO_CARD_MODE_ENTRY_POINTS,
  type PinId,
  type PinSet,
  REQUIRED_ENTRY_POINTS,
  ScardError,
  specEntryPointName,
  type Transport,
  type TransportEvent,
  traceTransport,
  type UserId,
} from '@minidriver/spec';
import type { PersistentCacheStore } from '../cache-store/persistent-store.js';
import { unpadDecryption } from '../crypto/decryption-padding.js';
import { padSignature } from '../crypto/signature-padding.js';
import { AuthState } from './auth-state.js';
import { CacheCoordinator, type CacheModeDecision, type CacheOptions } from './cache-coordinator.js';
import { CallPipeline } from './call-pipeline.js';
import type { CardManagementOperation } from './card-management.js';
import * as container_calls from './container-calls.js';
import * as crypto_calls from './crypto-calls.js';
import type { CardDeriveKeyInfo, CardDhAgreementInfo, CardRsaDecryptInfo, CardSigningInfo } from './crypto-requests.js';
import { type CardCacheStore, processDataCacheStore } from './data-cache.js';
import * as file_calls from './file-calls.js';
import { DEFAULT_REQUESTED_VERSION, negotiateCardDataVersion, validateCardDataVersions } from './negotiate.js';
import { checkFlagBits } from './parameters.js';
import * as pin_calls from './pin-calls.js';
import * as property_calls from './property-calls.js';
import type { SessionCore } from './session-core.js';
import * as ski_calls from './ski-calls.js';

import { canAuthenticatePin } from './v4-adapters.js';

export { InsufficientBufferError } from './request-checks.js';

/** Options of {@link CardSession.open} (the caller's half of CARD_DATA). */
export interface CardSessionOptions {
  /** The CARD_DATA version the caller asks for (default 7). Values above 7 negotiate down. */
  readonly version?: number;
  /** CardAcquireContext's dwFlags: 0 or CARD_SECURE_KEY_INJECTION_NO_CARD_MODE. */
  readonly flags?: number;
  /** The card's name handed to the plugin (default: the plugin's name). */
  readonly cardName?: string;
  /** The store shared by sessions in GLOBAL cache mode (default: one per process). */
  readonly cache?: CardCacheStore;
  /**
   * GLOBAL cache mode: the store shared with other processes (none by default). What another process saved
   * for the card is restored before the first cardcf check, and public entries are saved after each call.
   */
  readonly persistentCache?: PersistentCacheStore;
  /** Sees every APDU, with VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER data redacted. */
  readonly trace?: ApduTraceHook;
}

/** Counters of a session, for diagnostics (the CLI prints them). */
export interface CardSessionStats {
  /** Session-level cache lookups answered from the cache (files, container info, key sizes, properties). */
  readonly cacheHits: number;
  /** Session-level cache lookups that went to the plugin. */
  readonly cacheMisses: number;
  /** Card transactions this session began. */
  readonly transactions: number;
}

/** A transport for no-card mode (docs/spec/minidriver.md §5.1.1): there is no card, so every card operation says so. */
const NO_CARD_TRANSPORT: Transport = {
  atr: new Uint8Array(0),
  protocol: 'raw',
  readerName: '',
  transmit: () => Promise.reject(new ScardError('SCARD_E_NO_SMARTCARD', 'no-card mode')),
  beginTransaction: () => Promise.reject(new ScardError('SCARD_E_NO_SMARTCARD', 'no-card mode')),
  endTransaction: () => Promise.resolve(),
  reconnect: () => Promise.reject(new ScardError('SCARD_E_NO_SMARTCARD', 'no-card mode')),
  close: () => Promise.resolve(),
};

const SKI_ENTRY_POINTS: readonly EntryPointName[] = [...NO_CARD_MODE_ENTRY_POINTS, 'importSessionKey'];

/**
 * One context on one card: what CardAcquireContext creates and CardDeleteContext ends.
 *
 * - Every method but {@link close} runs inside one card transaction (`beginTransaction` /
 *   `endTransaction('leave')`); calls on one session are serialised; internal nested work joins the
 *   transaction of its call. {@link transaction} holds one transaction around several calls, which then
 *   share what they read, in every cache mode.
 * - Parameters are checked before the plugin is called, in the order of docs/spec/minidriver.md §1.5; an entry point above the
 *   negotiated version, or one the plugin lacks, is SCARD_E_UNSUPPORTED_FEATURE and never reaches it.
 * - After {@link close}, every call is SCARD_E_INVALID_HANDLE (the handle no longer names a context).
 * - Data cache by CP_CARD_CACHE_MODE: GLOBAL = shared by the sessions of a {@link DataCacheStore}, keyed by
 *   plugin and cardid, validated against cardcf at the start of every call's transaction (one file read);
 *   SESSION_ONLY = private to the session, flushed on reset/removal; NO_CACHE = nothing kept after the
 *   transaction it was read in. GLOBAL
 *   degrades to SESSION_ONLY on a card without cardid or cardcf. Writes bump the matching cardcf counter
 *   and write cardcf back (except in NO_CACHE mode and on cards without cardcf).
 * - Every returned value is a copy; PIN copies the session makes are wiped after use.
 */
export class CardSession {
  /** The negotiated CARD_DATA version, fixed for the life of the context. */
  readonly version: CardDataVersion;
  /** The plugin's name. */
  readonly pluginName: string;

  readonly #transport: Transport;
  readonly #noCardMode: boolean;
  #minidriver!: Minidriver;
  readonly #core: SessionCore;
  #unsubscribe: (() => void) | undefined;

  /**
   * `transactions` is the caller's transport, which `transport` may decorate (tracing): card transactions
   * are begun on it, so that a transaction the caller holds on it (withTransaction) is joined.
   */
  private constructor(
    plugin: MinidriverPlugin,
    transport: Transport,
    version: CardDataVersion,
    noCardMode: boolean,
    transactions: Transport,
  ) {
    this.pluginName = plugin.name;
    this.#transport = transport;
    this.version = version;
    this.#noCardMode = noCardMode;
    const minidriver = () => this.#minidriver;
    const caches = new CacheCoordinator(plugin.name, minidriver, () => pipeline.closed);
    const auth = new AuthState(() => caches.dropPluginEntries());
    const pipeline: CallPipeline = new CallPipeline(transactions, noCardMode, version, plugin.name, {
      minidriver,
      enterTransaction: (token) => caches.enterTransaction(token),
      beginTransaction: () => caches.beginTransaction(),
      endTransaction: () => caches.endTransaction(),
      afterTransaction: () => caches.afterTransaction(),
      cardEvent: (event) => this.#cardEvent(event),
    });
    this.#core = { version, pipeline, caches, auth };
  }

  /**
   * CardAcquireContext: checks `flags` (only CARD_SECURE_KEY_INJECTION_NO_CARD_MODE), negotiates the
   * version (below the plugin's min → ERROR_REVISION_MISMATCH), runs `plugin.acquireContext` inside one
   * transaction, checks the plugin filled every required slot of the negotiated version, and reads
   * CP_CARD_CACHE_MODE (CARD_DATA ≥ 6; GLOBAL before). `transport` may be null only in no-card mode
   * (otherwise SCARD_E_INVALID_HANDLE, as for a zero hScard).
   */
  static async open(
    plugin: MinidriverPlugin,
    transport: Transport | null,
    options: CardSessionOptions = {},
  ): Promise<CardSession> {
    if (plugin === null || typeof plugin !== 'object' || typeof plugin.acquireContext !== 'function') {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'plugin is missing');
    }
    // null means "no options", like undefined; anything else that is not an object is a caller error.
    if (options === null) options = {};
    if (typeof options !== 'object') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'options must be an object');
    const flags = checkFlagBits(
      options.flags ?? 0,
      CARD_SECURE_KEY_INJECTION_NO_CARD_MODE,
      'CardAcquireContext dwFlags',
    );
    const noCardMode = flags === CARD_SECURE_KEY_INJECTION_NO_CARD_MODE;
    validateCardDataVersions(String(plugin.name), plugin.cardDataVersions);
    const version = negotiateCardDataVersion(options.version ?? DEFAULT_REQUESTED_VERSION, plugin.cardDataVersions);
    if (!noCardMode && (transport === null || typeof transport !== 'object')) {
      throw new ScardError('SCARD_E_INVALID_HANDLE', 'no transport to the card');
    }
    const baseTransport = noCardMode ? (transport ?? NO_CARD_TRANSPORT) : (transport as Transport);
    const effectiveTransport = options.trace
      ? traceTransport(baseTransport, options.trace, plugin.secretApdus ?? [])
      : baseTransport;
    const session = new CardSession(plugin, effectiveTransport, version, noCardMode, baseTransport);
    await session.#acquire(plugin, flags, options);
    return session;
  }

  async #acquire(plugin: MinidriverPlugin, flags: number, options: CardSessionOptions): Promise<void> {
    const { pipeline, caches } = this.#core;
    const context: CardContext = {
      version: this.version,
      atr: this.#noCardMode ? new Uint8Array(0) : new Uint8Array(this.#transport.atr),
      cardName: options.cardName ?? plugin.name,
      transport: this.#transport,
      cache: caches.pluginCache(),
      memo: pipeline.memo,
      padData: (request, modulusBytes) => padSignature(request, modulusBytes),
      unpadData: (block, padding) => unpadDecryption(block, padding),
    };
    const cacheOptions: CacheOptions = {
      store: options.cache ?? processDataCacheStore,
      ...(options.persistentCache === undefined ? {} : { persistent: options.persistentCache }),
      ...(plugin.provableCacheEntries === undefined ? {} : { provable: plugin.provableCacheEntries }),
      ...(plugin.publicPluginCacheEntries === undefined ? {} : { publicPluginTags: plugin.publicPluginCacheEntries }),
      ...(this.#transport.presenceToken === undefined
        ? {}
        : { presenceToken: () => this.#transport.presenceToken?.() ?? Promise.resolve(undefined) }),
    };
    const setUp = async (): Promise<void> => {
      if (!this.#noCardMode) await caches.prepare(cacheOptions);
      try {
        this.#minidriver = await plugin.acquireContext(context, flags);
      } catch (error) {
        throw ScardError.from(error, 'CardAcquireContext');
      }
      try {
        this.#checkRequiredEntryPoints();
        if (this.#noCardMode) {
          if (!SKI_ENTRY_POINTS.some((name) => typeof this.#minidriver[name] === 'function')) {
            throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no-card mode needs secure key injection');
          }
          return;
        }
        await caches.setUp(await caches.readCacheMode(this.version), cacheOptions);
      } catch (error) {
        await this.#minidriver.deleteContext().catch(() => undefined);
        throw ScardError.from(error, 'CardAcquireContext');
      }
    };
    if (this.#noCardMode) await setUp();
    else {
      await pipeline.transaction(setUp);
      this.#unsubscribe = this.#transport.onEvent?.((event) => this.#cardEvent(event));
    }
  }

  #checkRequiredEntryPoints(): void {
    if (this.#minidriver === null || typeof this.#minidriver !== 'object') {
      throw new ScardError('SCARD_E_UNEXPECTED', `plugin "${this.pluginName}" returned no minidriver`);
    }
    if (!canAuthenticatePin(this.#minidriver)) {
      throw new ScardError(
        'SCARD_E_UNEXPECTED',
        `plugin "${this.pluginName}" lacks CardAuthenticatePin and CardAuthenticateEx`,
      );
    }
    for (const [name, required] of Object.entries(REQUIRED_ENTRY_POINTS) as [EntryPointName, boolean][]) {
      if (required && ENTRY_POINT_VERSION[name] <= this.version && typeof this.#minidriver[name] !== 'function') {
        throw new ScardError(
          'SCARD_E_UNEXPECTED',
          `plugin "${this.pluginName}" lacks ${specEntryPointName(name)}, required at CARD_DATA version ${this.version}`,
        );
      }
    }
  }

  /** A reset or removal drops every authentication and a SESSION_ONLY cache. */
  #cardEvent(event: TransportEvent): void {
    if (event.type !== 'reset' && event.type !== 'removed') return;
    this.#core.auth.drop(0xff);
    this.#core.caches.onCardEvent(event);
  }

  /** The CP_CARD_CACHE_MODE in effect (GLOBAL degrades to SESSION_ONLY on a card without cardid/cardcf). */
  get cacheMode(): CacheMode {
    return this.#core.caches.mode;
  }

  /**
   * The cache mode in effect and why: the plugin's choice (with its own reason in words when it gives one,
   * e.g. a card whose cardcf the user cannot write), the specification's default, or GLOBAL degraded to
   * SESSION_ONLY on a card whose cardid / cardcf cannot be read.
   */
  get cacheModeDecision(): CacheModeDecision {
    return this.#core.caches.decision;
  }

  /** The PINs this session authenticated and has not deauthenticated (dropped on reset/removal). */
  get authenticatedPins(): PinSet {
    return this.#core.auth.pins;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#core.pipeline.closed;
  }

  /** Cache and transaction counters (a copy). */
  stats(): CardSessionStats {
    return { ...this.#core.caches.counters, transactions: this.#core.pipeline.transactions };
  }

  /**
   * CardDeleteContext: no transaction, never fails, never disturbs other sessions. Waits for calls already
   * running, then lets the plugin release its state. Does not close the transport (the caller owns it).
   * Closing twice is harmless. Inside {@link transaction} it closes the session for every later call at
   * once and releases the plugin after the transaction ended, without waiting for it.
   */
  async close(): Promise<void> {
    if (this.#core.pipeline.closed) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const drained = this.#core.pipeline.close();
    if (this.#core.pipeline.holding) {
      // Waiting here would wait for the transaction this very chain holds.
      void drained.then(() => this.#release());
      return;
    }
    await drained;
    await this.#release();
  }

  /** CardDeleteContext's second half, once no call runs any more. */
  async #release(): Promise<void> {
    try {
      await this.#minidriver.deleteContext();
    } catch {
      // CardDeleteContext must succeed; the card may be gone.
    }
    // Calls made inside a caller's transaction have not been saved yet.
    await this.#core.caches.afterTransaction();
    this.#core.caches.close();
    this.#core.auth.drop(0xff);
  }

  /**
   * CardAuthenticatePin: `user` or `admin` with a PIN. A wrong PIN is SCARD_W_WRONG_CHV with `retriesLeft`.
   * The session's copy of the PIN is wiped afterwards.
   */
  authenticatePin(userId: UserId, pin: Uint8Array): Promise<void> {
    return pin_calls.authenticatePin(this.#core, userId, pin);
  }

  /**
   * CardAuthenticateEx. `flags`: CARD_AUTHENTICATE_GENERATE_SESSION_PIN, CARD_AUTHENTICATE_SESSION_PIN
   * (not both), CARD_PIN_SILENT_CONTEXT. `pinData` undefined = external PIN (PIN pad). Generating a session
   * PIN does not authenticate.
   */
  authenticateEx(pinId: PinId, flags: number, pinData?: Uint8Array): Promise<{ sessionPin?: Uint8Array }> {
    return pin_calls.authenticateEx(this.#core, pinId, flags, pinData);
  }

  /** CardGetChallenge: a challenge of the admin key. */
  getChallenge(): Promise<Uint8Array> {
    return pin_calls.getChallenge(this.#core);
  }

  /** CardAuthenticateChallenge: the response to the last challenge authenticates the admin. */
  authenticateChallenge(response: Uint8Array): Promise<void> {
    return pin_calls.authenticateChallenge(this.#core, response);
  }

  /** CardGetChallengeEx: a challenge for a challenge/response PIN. `flags` must be 0. */
  getChallengeEx(pinId: PinId, flags = 0): Promise<Uint8Array> {
    return pin_calls.getChallengeEx(this.#core, pinId, flags);
  }

  /**
   * CardUnblockPin: `userId` must be `user` (`admin` → SCARD_E_UNSUPPORTED_FEATURE); `flags`
   * CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE (1) or CARD_AUTHENTICATE_PIN_PIN (2). Bumps the pins counter.
   */
  unblockPin(
    userId: UserId,
    authenticationData: Uint8Array,
    newPin: Uint8Array,
    retryCount: number,
    flags: number,
  ): Promise<void> {
    return pin_calls.unblockPin(this.#core, userId, authenticationData, newPin, retryCount, flags);
  }

  /**
   * CardChangeAuthenticator: change a PIN (flags CARD_AUTHENTICATE_PIN_PIN) or the admin key (flags
   * CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE, `admin` only). Bumps the pins counter.
   */
  changeAuthenticator(
    userId: UserId,
    currentAuthenticator: Uint8Array,
    newAuthenticator: Uint8Array,
    retryCount: number,
    flags: number,
  ): Promise<void> {
    return pin_calls.changeAuthenticator(this.#core, userId, currentAuthenticator, newAuthenticator, retryCount, flags);
  }

  /**
   * CardChangeAuthenticatorEx: `flags` holds exactly one of PIN_CHANGE_FLAG_UNBLOCK / _CHANGEPIN, optionally
   * CARD_PIN_SILENT_CONTEXT. Unblocking a PIN with itself is SCARD_E_INVALID_PARAMETER. Bumps pins.
   */
  changeAuthenticatorEx(
    flags: number,
    authenticatingPinId: PinId,
    authenticatingData: Uint8Array,
    targetPinId: PinId,
    targetData: Uint8Array,
    retryCount = 0,
  ): Promise<void> {
    return pin_calls.changeAuthenticatorEx(
      this.#core,
      flags,
      authenticatingPinId,
      authenticatingData,
      targetPinId,
      targetData,
      retryCount,
    );
  }

  /**
   * CardDeauthenticate (v4): when the plugin has no such slot, or it fails, the transaction ends with a card
   * reset instead (the caller's fallback, docs/spec/minidriver.md §5.2.6) and the call succeeds.
   */
  deauthenticate(userId: UserId, flags = 0): Promise<void> {
    return pin_calls.deauthenticate(this.#core, userId, flags);
  }

  /**
   * CardDeauthenticateEx(pinSet): the ROLE_EVERYONE bit is ignored (a set of only that bit does nothing); bits above 0xFF or non-zero flags → SCARD_E_INVALID_PARAMETER. When the
   * plugin answers SCARD_E_UNSUPPORTED_FEATURE the transaction ends with a card reset and the call succeeds
   * (docs/spec/minidriver.md §5.2.10); any other failure also resets the card and is thrown.
   */
  deauthenticateEx(pinSet: PinSet, flags = 0): Promise<void> {
    return pin_calls.deauthenticateEx(this.#core, pinSet, flags);
  }

  /**
   * Runs `work` with the card held in ONE card transaction (SCardBeginTransaction … SCardEndTransaction):
   * the calls `work` makes on this session — in its async chain — join it, run one after the other, and no
   * other program can change the card in between. So what they read is provably fresh until the
   * transaction ends and is reused by the calls that follow, whatever the cache mode (also NO_CACHE):
   * a logon (cmapfile, the certificate listing, each certificate, each container) reads each card object
   * once. Our own writes inside it drop what they change; a card reset or removal drops everything.
   *
   * - It begins once the session's calls queued before it ran; freshness (cardcf) is checked once, at its
   *   start. Calls from other async chains (and other sessions on the card) wait until it ends; a call
   *   `work` started without awaiting it still runs inside it, before it ends.
   * - It ends with `leave` whether `work` returns or throws; `work`'s error is rethrown as it is. A call
   *   that falls back to resetting the card (CardDeauthenticate without the plugin's support) resets it at
   *   once and the work continues in a new transaction.
   * - Inside it, a nested `transaction` simply runs its work. Do not await, inside it, a call made outside
   *   it (from another chain, another session on the same card, {@link close}): it waits for this
   *   transaction to end, which waits for `work`. Keep it short: the card is locked for others meanwhile.
   * - Not available in no-card mode (SCARD_E_UNSUPPORTED_FEATURE); after {@link close}, SCARD_E_INVALID_HANDLE.
   */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.#core.pipeline.requireOpen();
      if (this.#noCardMode) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no card transaction in no-card mode');
      if (typeof work !== 'function') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'work is missing');
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
    return this.#core.pipeline.hold(work);
  }

  /**
   * Runs a card-specific management operation (outside the minidriver contract, written by the card's
   * package) inside one transaction of this session, serialised with its other calls. The operation may
   * change anything on the card, so afterwards the session forgets what it had cached and which PINs it
   * held authenticated. Only ScardError escapes; not available in no-card mode.
   */
  manage<T>(operation: CardManagementOperation<T>): Promise<T> {
    try {
      this.#core.pipeline.requireOpen();
      if (this.#noCardMode) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no card management in no-card mode');
      if (typeof operation !== 'function') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'operation is missing');
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
    return this.#core.pipeline.exclusive(
      'card management',
      (minidriver) => operation({ pluginName: this.pluginName, minidriver, transport: this.#transport }),
      () => {
        this.#core.auth.drop(0xff);
        this.#core.caches.clear();
      },
    );
  }

  /** CardQueryCapabilities. `structureVersion` is CARD_CAPABILITIES.dwVersion (0 counts as 1). */
  queryCapabilities(structureVersion = 1): Promise<CardCapabilities & { version: 1 }> {
    return file_calls.queryCapabilities(this.#core, structureVersion);
  }

  /** CardCreateDirectory: access condition UserCreateDeleteDirAc or AdminCreateDeleteDirAc. Bumps files. */
  createDirectory(name: string, accessCondition: number): Promise<void> {
    return file_calls.createDirectory(this.#core, name, accessCondition);
  }

  /** CardDeleteDirectory. Bumps files. */
  deleteDirectory(name: string): Promise<void> {
    return file_calls.deleteDirectory(this.#core, name);
  }

  /** CardCreateFile. Bumps files. */
  createFile(directory: string | null, name: string, initialSize: number, accessCondition: number): Promise<void> {
    return file_calls.createFile(this.#core, directory, name, initialSize, accessCondition);
  }

  /**
   * CardReadFile: the whole file, from the cache when it is valid. In GLOBAL mode a read of cardcf returns
   * the copy read at the start of this call's transaction.
   */
  readFile(directory: string | null, name: string, flags = 0): Promise<Uint8Array> {
    return file_calls.readFile(this.#core, directory, name, flags);
  }

  /**
   * CardWriteFile: replaces the contents. Bumps files and writes cardcf back; a caller writing cardcf itself
   * invalidates the whole cache instead.
   */
  writeFile(directory: string | null, name: string, data: Uint8Array, flags = 0): Promise<void> {
    return file_calls.writeFile(this.#core, directory, name, data, flags);
  }

  /** CardDeleteFile. Bumps files. */
  deleteFile(directory: string | null, name: string, flags = 0): Promise<void> {
    return file_calls.deleteFile(this.#core, directory, name, flags);
  }

  /** CardEnumFiles: the file names of a directory (null or "" = root). */
  enumFiles(directory: string | null, flags = 0): Promise<string[]> {
    return file_calls.enumFiles(this.#core, directory, flags);
  }

  /** CardGetFileInfo. `structureVersion` is CARD_FILE_INFO.dwVersion. */
  getFileInfo(directory: string | null, name: string, structureVersion = 1): Promise<CardFileInfo & { version: 1 }> {
    return file_calls.getFileInfo(this.#core, directory, name, structureVersion);
  }

  /** CardQueryFreeSpace. */
  queryFreeSpace(flags = 0, structureVersion = 1): Promise<CardFreeSpaceInfo & { version: 1 }> {
    return file_calls.queryFreeSpace(this.#core, flags, structureVersion);
  }

  /** CardQueryKeySizes. A key spec of 0 means RSA (AT_KEYEXCHANGE), as legacy callers pass it (docs/spec/minidriver.md §5.5.1). */
  queryKeySizes(keySpec: number, flags = 0, structureVersion = 1): Promise<CardKeySizes & { version: 1 }> {
    return file_calls.queryKeySizes(this.#core, keySpec, flags, structureVersion);
  }

  /**
   * CardCreateContainer: `flags` CARD_CREATE_CONTAINER_KEY_GEN (with `keySize` bits for RSA, 0 for ECC) or
   * CARD_CREATE_CONTAINER_KEY_IMPORT (with `keyData`). The key is bound to ROLE_USER. Bumps containers.
   */
  createContainer(index: number, flags: number, keySpec: number, keySize: number, keyData?: Uint8Array): Promise<void> {
    return container_calls.createContainer(this.#core, index, flags, keySpec, keySize, keyData);
  }

  /** CardCreateContainerEx: as {@link createContainer}, binding the key to `pinId` (1..7). */
  createContainerEx(
    index: number,
    flags: number,
    keySpec: number,
    keySize: number,
    keyData: Uint8Array | undefined,
    pinId: PinId,
  ): Promise<void> {
    return container_calls.createContainerEx(this.#core, index, flags, keySpec, keySize, keyData, pinId);
  }

  /** CardDeleteContainer: `reserved` must be 0; an empty index succeeds. Bumps containers. */
  deleteContainer(index: number, reserved = 0): Promise<void> {
    return container_calls.deleteContainer(this.#core, index, reserved);
  }

  /** CardGetContainerInfo: the container's public key BLOBs (cached; copies). */
  getContainerInfo(index: number, flags = 0, structureVersion = 1): Promise<ContainerInfo & { version: 1 }> {
    return container_calls.getContainerInfo(this.#core, index, flags, structureVersion);
  }

  /** CardGetContainerProperty: CCP_CONTAINER_INFO, CCP_PIN_IDENTIFIER, CCP_ASSOCIATED_ECDH_KEY (cached). */
  getContainerProperty<K extends ContainerPropertyName>(
    index: number,
    name: K,
    flags = 0,
  ): Promise<ContainerPropertyTypes[K]> {
    return container_calls.getContainerProperty(this.#core, index, name, flags);
  }

  /**
   * CardGetContainerProperty with the spec's byte layout (`encodeContainerProperty`). A `bufferSize`
   * smaller than the value → {@link InsufficientBufferError} (ERROR_INSUFFICIENT_BUFFER, `requiredSize`).
   */
  getContainerPropertyBytes(
    index: number,
    name: ContainerPropertyName,
    flags = 0,
    bufferSize?: number,
  ): Promise<Uint8Array> {
    return container_calls.getContainerPropertyBytes(this.#core, index, name, flags, bufferSize);
  }

  /** CardSetContainerProperty: CCP_PIN_IDENTIFIER or CCP_ASSOCIATED_ECDH_KEY. Bumps containers. */
  setContainerProperty<K extends ContainerPropertyName>(
    index: number,
    name: K,
    value: ContainerPropertyTypes[K],
    flags = 0,
  ): Promise<void> {
    return container_calls.setContainerProperty(this.#core, index, name, value, flags);
  }

  /** CardGetProperty: `flags` is a key spec, PIN id or operation class for the properties that take one, else 0. */
  getProperty<K extends CardPropertyName>(name: K, flags = 0): Promise<CardPropertyTypes[K]> {
    return property_calls.getProperty(this.#core, name, flags);
  }

  /**
   * CardGetProperty with the spec's byte layout (`encodeCardProperty`): e.g. a DWORD as 4 bytes
   * little-endian. A `bufferSize` smaller than the value → {@link InsufficientBufferError}
   * (ERROR_INSUFFICIENT_BUFFER, `requiredSize` = what `*pdwDataLen` receives).
   */
  getPropertyBytes(name: CardPropertyName, flags = 0, bufferSize?: number): Promise<Uint8Array> {
    return property_calls.getPropertyBytes(this.#core, name, flags, bufferSize);
  }

  /** CardSetProperty: only the settable properties of docs/spec/minidriver.md §7.1 (others → SCARD_E_UNSUPPORTED_FEATURE). */
  setProperty<K extends CardPropertyName>(name: K, value: CardPropertyTypes[K], flags = 0): Promise<void> {
    return property_calls.setProperty(this.#core, name, value, flags);
  }

  /**
   * CardSignData with a spec-shaped CARD_SIGNING_INFO (checks of docs/spec/minidriver.md §5.6.1, matrix of docs/spec/minidriver.md §9.3). With
   * CARD_BUFFER_SIZE_ONLY the session answers the size from the container's public key (cached) and the
   * plugin is not asked to sign. RSA signatures are little-endian, ECDSA `r || s` big-endian.
   */
  signData(info: CardSigningInfo): Promise<{ signature?: Uint8Array; size: number }> {
    return crypto_calls.signData(this.#core, info);
  }

  /**
   * CardRSADecrypt with a spec-shaped CARD_RSA_DECRYPT_INFO (docs/spec/minidriver.md §5.6.2, §9.2): version 1 is refused with
   * CARD_DATA 7 and means "raw block" below it; input shorter than the modulus → SCARD_E_INSUFFICIENT_BUFFER,
   * longer → SCARD_E_INVALID_PARAMETER. Returns the result little-endian (raw block or unpadded message).
   */
  rsaDecrypt(info: CardRsaDecryptInfo): Promise<Uint8Array> {
    return crypto_calls.rsaDecrypt(this.#core, info);
  }

  /** CardConstructDHAgreement: returns the agreement index the plugin keeps. */
  constructDHAgreement(info: CardDhAgreementInfo): Promise<number> {
    return crypto_calls.constructDHAgreement(this.#core, info);
  }

  /**
   * CardDeriveKey: the derived bytes, or with CARD_BUFFER_SIZE_ONLY only their size (the plugin derives and
   * the session wipes the bytes: the size of some KDFs depends on their parameters).
   */
  deriveKey(info: CardDeriveKeyInfo): Promise<{ derivedKey?: Uint8Array; size: number }> {
    return crypto_calls.deriveKey(this.#core, info);
  }

  /** CardDestroyDHAgreement: `flags` must be 0. */
  destroyDHAgreement(agreementIndex: number, flags = 0): Promise<void> {
    return crypto_calls.destroyDHAgreement(this.#core, agreementIndex, flags);
  }

  /** MDImportSessionKey. */
  mdImportSessionKey(blobType: string, algorithmId: string, input: Uint8Array): Promise<CardKeyHandle> {
    return ski_calls.mdImportSessionKey(this.#core, blobType, algorithmId, input);
  }

  /** MDEncryptData. */
  mdEncryptData(
    key: CardKeyHandle,
    secureFunction: string,
    input: Uint8Array,
    flags = 0,
  ): Promise<CardEncryptedData[]> {
    return ski_calls.mdEncryptData(this.#core, key, secureFunction, input, flags);
  }

  /** CardImportSessionKey. */
  importSessionKey(
    containerIndex: number,
    padding: unknown,
    blobType: string,
    algorithmId: string,
    input: Uint8Array,
    flags = 0,
  ): Promise<CardKeyHandle> {
    return ski_calls.importSessionKey(this.#core, containerIndex, padding, blobType, algorithmId, input, flags);
  }

  /** CardGetSharedKeyHandle. */
  getSharedKeyHandle(input: Uint8Array): Promise<{ handle: CardKeyHandle; output?: Uint8Array }> {
    return ski_calls.getSharedKeyHandle(this.#core, input);
  }

  /** CardGetAlgorithmProperty. */
  getAlgorithmProperty(algorithmId: string, property: string, flags = 0): Promise<Uint8Array> {
    return ski_calls.getAlgorithmProperty(this.#core, algorithmId, property, flags);
  }

  /** CardGetKeyProperty: `flags` must be 0. */
  getKeyProperty(key: CardKeyHandle, property: string, flags = 0): Promise<Uint8Array> {
    return ski_calls.getKeyProperty(this.#core, key, property, flags);
  }

  /** CardSetKeyProperty: `flags` must be 0. */
  setKeyProperty(key: CardKeyHandle, property: string, value: Uint8Array, flags = 0): Promise<void> {
    return ski_calls.setKeyProperty(this.#core, key, property, value, flags);
  }

  /** CardDestroyKey. */
  destroyKey(key: CardKeyHandle): Promise<void> {
    return ski_calls.destroyKey(this.#core, key);
  }

  /** CardProcessEncryptedData. */
  processEncryptedData(
    key: CardKeyHandle,
    secureFunction: string,
    data: readonly CardEncryptedData[],
    flags = 0,
  ): Promise<Uint8Array> {
    return ski_calls.processEncryptedData(this.#core, key, secureFunction, data, flags);
  }
}
