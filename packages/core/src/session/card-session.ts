/**
 * @module CardSession: the card interface layer an application uses (the part of the Base CSP / KSP that
 * drives a minidriver, §1.2, §4.8, §5, §10). It negotiates the CARD_DATA version, validates every
 * parameter before the plugin sees it, holds one card transaction around each call (never around
 * close), keeps the data cache validated by cardcf, and returns copies.
 */
import { toHex, wipe } from '../bytes.js';
import {
  bumpFreshness,
  decodeCardCacheFile,
  encodeCardCacheFile,
  encodeCardProperty,
  encodeContainerProperty,
  keyBlobInfo,
} from '../codecs/index.js';
import {
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_PIN_SILENT_CONTEXT,
  CARD_SECURE_KEY_INJECTION_NO_CARD_MODE,
  CacheMode,
  type CardDataVersion,
  createPinSet,
  isEcdhKeySpec,
  isEcdsaKeySpec,
  isRsaKeySpec,
  KeySpec,
  LogicalName,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  type PinId,
  type PinSet,
  ROLE_ADMIN,
  ROLE_USER,
  StructureVersion,
  type UserId,
} from '../contract/constants.js';
import {
  ENTRY_POINT_VERSION,
  type EntryPointName,
  NO_CARD_MODE_ENTRY_POINTS,
  REQUIRED_ENTRY_POINTS,
} from '../contract/entry-points.js';
import type { Minidriver } from '../contract/minidriver-v7.js';
import type { CardContext, MinidriverPlugin, PluginCache } from '../contract/plugin.js';
import {
  CardProperty,
  type CardPropertyName,
  type CardPropertyTypes,
  ContainerProperty,
  type ContainerPropertyName,
  type ContainerPropertyTypes,
} from '../contract/properties.js';
import type {
  CardCacheFile,
  CardCapabilities,
  CardEncryptedData,
  CardFileInfo,
  CardFreeSpaceInfo,
  CardKeyHandle,
  CardKeySizes,
  ContainerInfo,
  DirectoryName,
} from '../contract/structures.js';
import { padSignature, unpadDecryption } from '../crypto/index.js';
import { ScardError } from '../errors.js';
import type { ApduTraceHook, Transport, TransportEvent } from '../transport.js';
import type { CardManagementOperation } from './card-management.js';
import {
  type CardDeriveKeyInfo,
  type CardDhAgreementInfo,
  type CardRsaDecryptInfo,
  type CardSigningInfo,
  normaliseAgreementInfo,
  normaliseDecryptInfo,
  normaliseDeriveKeyInfo,
  normaliseSigningInfo,
} from './crypto-requests.js';
import { type CardDataCache, cloneValue, DataCacheStore, processDataCacheStore } from './data-cache.js';
import { specEntryPointName } from './entry-point-names.js';
import { applyFreshness } from './freshness.js';
import {
  DEFAULT_REQUESTED_VERSION,
  negotiateCardDataVersion,
  requireEntryPointVersion,
  resolveStructureVersion,
  validateCardDataVersions,
} from './negotiate.js';
import {
  checkBytes,
  checkContainerIndex,
  checkDirectoryAccessCondition,
  checkDirectoryName,
  checkDword,
  checkFileAccessCondition,
  checkFileName,
  checkFlagBits,
  checkKeySpec,
  checkSecretPinId,
  checkUserId,
  checkZeroFlags,
} from './parameters.js';
import {
  checkContainerProperty,
  checkGetProperty,
  checkSetContainerProperty,
  checkSetProperty,
} from './property-rules.js';
import { traceTransport } from './trace.js';
import { type TransactionScope, withTransaction } from './with-transaction.js';

/** Options of {@link CardSession.open} (the caller's half of CARD_DATA). */
export interface CardSessionOptions {
  /** The CARD_DATA version the caller asks for (default 7). Values above 7 negotiate down. */
  readonly version?: number;
  /** CardAcquireContext's dwFlags: 0 or CARD_SECURE_KEY_INJECTION_NO_CARD_MODE. */
  readonly flags?: number;
  /** The card's name handed to the plugin (default: the plugin's name). */
  readonly cardName?: string;
  /** The store shared by sessions in GLOBAL cache mode (default: one per process). */
  readonly cache?: DataCacheStore;
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

/**
 * ERROR_INSUFFICIENT_BUFFER from {@link CardSession.getPropertyBytes} and
 * {@link CardSession.getContainerPropertyBytes}: the caller's buffer is too small; `requiredSize` is what
 * `*pdwDataLen` would receive.
 */
export class InsufficientBufferError extends ScardError {
  readonly requiredSize: number;
  constructor(requiredSize: number, given: number) {
    super('ERROR_INSUFFICIENT_BUFFER', `the value needs ${requiredSize} bytes; the buffer has ${given}`);
    this.requiredSize = requiredSize;
  }
}

/** A transport for no-card mode (§5.1.1): there is no card, so every card operation says so. */
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

function isFileMissing(error: unknown): boolean {
  return ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND') || ScardError.hasCode(error, 'SCARD_E_DIR_NOT_FOUND');
}

function cacheTagOf(directory: DirectoryName, name: string): string {
  return `${directory ?? ''}/${name}`;
}

/**
 * One context on one card: what CardAcquireContext creates and CardDeleteContext ends.
 *
 * - Every method but {@link close} runs inside one card transaction (`beginTransaction` /
 *   `endTransaction('leave')`); calls on one session are serialised; internal nested work joins the
 *   transaction of its call.
 * - Parameters are checked before the plugin is called, in the order of §1.5; an entry point above the
 *   negotiated version, or one the plugin lacks, is SCARD_E_UNSUPPORTED_FEATURE and never reaches it.
 * - After {@link close}, every call is SCARD_E_INVALID_HANDLE (the handle no longer names a context).
 * - Data cache by CP_CARD_CACHE_MODE: GLOBAL = shared by the sessions of a {@link DataCacheStore}, keyed by
 *   plugin and cardid, validated against cardcf at the start of every call's transaction (one file read);
 *   SESSION_ONLY = private to the session, flushed on reset/removal; NO_CACHE = nothing cached. GLOBAL
 *   degrades to SESSION_ONLY on a card without cardid or cardcf. Writes bump the matching cardcf counter
 *   and write cardcf back (except in NO_CACHE mode and on cards without cardcf).
 * - Every returned value is a copy; PIN copies the session makes are wiped after use.
 */
export class CardSession {
  /** The negotiated CARD_DATA version, fixed for the life of the context. */
  readonly version: CardDataVersion;
  /** The plugin's name. */
  readonly pluginName: string;

  private readonly transport: Transport;
  private readonly noCardMode: boolean;
  private minidriver!: Minidriver;
  private mode: CacheMode = CacheMode.NO_CACHE;
  private cache: CardDataCache | undefined;
  private pluginCacheEnabled = false;
  private authenticated: PinSet = 0;
  private isClosed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  /** The cardcf read (or written) in the current transaction, GLOBAL mode only. */
  private transactionCardcf: { file: CardCacheFile; bytes: Uint8Array } | undefined;
  private counters = { cacheHits: 0, cacheMisses: 0, transactions: 0 };

  private constructor(plugin: MinidriverPlugin, transport: Transport, version: CardDataVersion, noCardMode: boolean) {
    this.pluginName = plugin.name;
    this.transport = transport;
    this.version = version;
    this.noCardMode = noCardMode;
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
    const session = new CardSession(plugin, effectiveTransport, version, noCardMode);
    await session.acquire(plugin, flags, options);
    return session;
  }

  private async acquire(plugin: MinidriverPlugin, flags: number, options: CardSessionOptions): Promise<void> {
    const context: CardContext = {
      version: this.version,
      atr: this.noCardMode ? new Uint8Array(0) : new Uint8Array(this.transport.atr),
      cardName: options.cardName ?? plugin.name,
      transport: this.transport,
      cache: this.pluginCache(),
      padData: (request, modulusBytes) => padSignature(request, modulusBytes),
      unpadData: (block, padding) => unpadDecryption(block, padding),
    };
    const setUp = async (): Promise<void> => {
      try {
        this.minidriver = await plugin.acquireContext(context, flags);
      } catch (error) {
        throw ScardError.from(error, 'CardAcquireContext');
      }
      try {
        this.checkRequiredEntryPoints();
        if (this.noCardMode) {
          if (!SKI_ENTRY_POINTS.some((name) => typeof this.minidriver[name] === 'function')) {
            throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no-card mode needs secure key injection');
          }
          return;
        }
        await this.setUpCache(await this.readCacheMode(), options.cache ?? processDataCacheStore);
      } catch (error) {
        await this.minidriver.deleteContext().catch(() => undefined);
        throw ScardError.from(error, 'CardAcquireContext');
      }
    };
    if (this.noCardMode) await setUp();
    else {
      this.counters.transactions++;
      try {
        await withTransaction(this.transport, setUp);
      } finally {
        this.transactionCardcf = undefined;
      }
      this.unsubscribe = this.transport.onEvent?.((event) => this.handleCardEvent(event));
    }
  }

  private checkRequiredEntryPoints(): void {
    if (this.minidriver === null || typeof this.minidriver !== 'object') {
      throw new ScardError('SCARD_E_UNEXPECTED', `plugin "${this.pluginName}" returned no minidriver`);
    }
    for (const [name, required] of Object.entries(REQUIRED_ENTRY_POINTS) as [EntryPointName, boolean][]) {
      if (required && ENTRY_POINT_VERSION[name] <= this.version && typeof this.minidriver[name] !== 'function') {
        throw new ScardError(
          'SCARD_E_UNEXPECTED',
          `plugin "${this.pluginName}" lacks ${specEntryPointName(name)}, required at CARD_DATA version ${this.version}`,
        );
      }
    }
  }

  private async readCacheMode(): Promise<CacheMode> {
    if (this.version < 6) return CacheMode.GLOBAL_CACHE;
    try {
      const mode = await this.minidriver.getProperty(CardProperty.CP_CARD_CACHE_MODE, 0);
      // An answer outside 1..3 cannot be trusted to keep a cache valid: cache nothing.
      return mode === 1 || mode === 2 || mode === 3 ? mode : CacheMode.NO_CACHE;
    } catch (error) {
      if (
        ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE') ||
        ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')
      ) {
        return CacheMode.GLOBAL_CACHE;
      }
      throw error;
    }
  }

  private async setUpCache(mode: CacheMode, store: DataCacheStore): Promise<void> {
    if (mode === CacheMode.NO_CACHE) {
      this.mode = mode;
      return;
    }
    if (mode === CacheMode.GLOBAL_CACHE) {
      try {
        const cardid = await this.readUncached(LogicalName.CARD_IDENTIFIER_FILE);
        const cardcfBytes = await this.readUncached(LogicalName.CACHE_FILE);
        const cardcf = decodeCardCacheFile(cardcfBytes);
        this.mode = CacheMode.GLOBAL_CACHE;
        this.cache = store.forCard(`${this.pluginName}:${toHex(cardid)}`);
        applyFreshness(this.cache, cardcf);
        this.transactionCardcf = { file: cardcf, bytes: cardcfBytes };
        this.pluginCacheEnabled = true;
        return;
      } catch (error) {
        // Without cardid and cardcf a shared cache cannot be validated: keep one for this session only.
        if (!isFileMissing(error) && !ScardError.hasCode(error, 'SCARD_E_COMM_DATA_LOST')) throw error;
      }
    }
    this.mode = CacheMode.SESSION_ONLY;
    this.cache = new DataCacheStore().forCard('session');
    this.pluginCacheEnabled = true;
  }

  /** Reads cardid / cardcf through the plugin with its cache functions switched off (§4.8). */
  private async readUncached(name: string): Promise<Uint8Array> {
    const wasEnabled = this.pluginCacheEnabled;
    this.pluginCacheEnabled = false;
    try {
      return await this.minidriver.readFile(null, name);
    } finally {
      this.pluginCacheEnabled = wasEnabled;
    }
  }

  /** The cache functions handed to the plugin: a `plugin:` namespace of this session's data cache. */
  private pluginCache(): PluginCache {
    const usable = (): CardDataCache | undefined =>
      this.pluginCacheEnabled && !this.isClosed ? this.cache : undefined;
    return {
      addFile: (tag, data) => {
        if (typeof tag === 'string' && data instanceof Uint8Array) usable()?.set('plugin', tag, data);
      },
      lookupFile: (tag) => (typeof tag === 'string' ? usable()?.get<Uint8Array>('plugin', tag) : undefined),
      deleteFile: (tag) => {
        if (typeof tag === 'string') usable()?.delete('plugin', tag);
      },
    };
  }

  private handleCardEvent(event: TransportEvent): void {
    if (event.type !== 'reset' && event.type !== 'removed') return;
    this.dropAuthentication(0xff);
    if (this.mode === CacheMode.SESSION_ONLY) this.cache?.clear();
  }

  private dropAuthentication(pinSet: PinSet): void {
    this.authenticated &= ~pinSet & 0xff;
    // Entries a plugin made while authenticated must not outlive the authentication (§4.8).
    this.cache?.dropNamespace('plugin');
  }

  // ---------------------------------------------------------------------------------------------------
  // Call machinery

  /**
   * Runs one entry point: availability (closed, no-card mode, negotiated version, plugin slot), then the
   * synchronous parameter checks, then — serialised with the session's other calls — the work inside
   * one transaction that starts with the cardcf freshness check.
   */
  private call<A, T>(
    name: EntryPointName,
    validate: () => A,
    work: (minidriver: Minidriver, args: A, scope: TransactionScope) => Promise<T>,
    options: { checkSlot?: boolean } = {},
  ): Promise<T> {
    try {
      this.requireOpen();
      if (this.noCardMode && !NO_CARD_MODE_ENTRY_POINTS.includes(name)) {
        throw new ScardError(
          'SCARD_E_UNSUPPORTED_FEATURE',
          `${specEntryPointName(name)} is not available in no-card mode`,
        );
      }
      requireEntryPointVersion(name, this.version);
      if (options.checkSlot !== false && typeof this.minidriver[name] !== 'function') {
        throw new ScardError(
          'SCARD_E_UNSUPPORTED_FEATURE',
          `plugin "${this.pluginName}" does not implement ${specEntryPointName(name)}`,
        );
      }
      const args = validate();
      const run = this.queue.then(() => this.runInTransaction(name, args, work));
      this.queue = run.catch(() => undefined);
      return run;
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
  }

  private async runInTransaction<A, T>(
    name: EntryPointName,
    args: A,
    work: (minidriver: Minidriver, args: A, scope: TransactionScope) => Promise<T>,
  ): Promise<T> {
    this.requireOpen();
    try {
      if (this.noCardMode) {
        return await work(this.minidriver, args, { nested: false, requestReset: () => undefined });
      }
      return await withTransaction(this.transport, async (scope) => {
        if (!scope.nested) this.counters.transactions++;
        try {
          await this.checkFreshness();
          return await work(this.minidriver, args, scope);
        } finally {
          if (!scope.nested) this.transactionCardcf = undefined;
        }
      });
    } catch (error) {
      const failure = ScardError.from(error, specEntryPointName(name));
      if (ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') || ScardError.hasCode(failure, 'SCARD_W_REMOVED_CARD')) {
        this.handleCardEvent({ type: ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') ? 'reset' : 'removed' });
      }
      throw failure;
    }
  }

  private requireOpen(): void {
    if (this.isClosed) throw new ScardError('SCARD_E_INVALID_HANDLE', 'the session is closed (CardDeleteContext)');
  }

  /** §4.8 / §10 step 4: in GLOBAL mode compare the card's cardcf with the cache's copy. */
  private async checkFreshness(): Promise<void> {
    if (this.mode !== CacheMode.GLOBAL_CACHE || this.cache === undefined || this.transactionCardcf !== undefined)
      return;
    const bytes = await this.readUncached(LogicalName.CACHE_FILE);
    const file = decodeCardCacheFile(bytes);
    applyFreshness(this.cache, file);
    this.transactionCardcf = { file, bytes };
  }

  /**
   * After a write: increment the counter of `category` in cardcf and write it back (§4.8), and drop what it
   * covers from this session's cache. Skipped in NO_CACHE mode and on cards without cardcf or writeFile.
   */
  private async bumpFreshness(category: 'pins' | 'containers' | 'files'): Promise<void> {
    if (this.cache !== undefined) {
      this.cache.dropCategory(category);
      this.cache.dropNamespace('plugin');
    }
    if (this.mode === CacheMode.NO_CACHE || typeof this.minidriver.writeFile !== 'function') return;
    let current = this.transactionCardcf?.file;
    if (current === undefined) {
      try {
        current = decodeCardCacheFile(await this.readUncached(LogicalName.CACHE_FILE));
      } catch (error) {
        if (isFileMissing(error)) return;
        throw error;
      }
    }
    const next = bumpFreshness(current, category);
    const bytes = encodeCardCacheFile(next);
    try {
      await this.minidriver.writeFile(null, LogicalName.CACHE_FILE, new Uint8Array(bytes));
    } catch (error) {
      this.cache?.clear();
      throw error;
    }
    if (this.mode === CacheMode.GLOBAL_CACHE && this.cache !== undefined) {
      this.cache.freshness = next;
      this.transactionCardcf = { file: next, bytes };
    }
  }

  /** A cached value, or `load()` stored in the cache. */
  private async cached<T>(namespace: 'file' | 'container', tag: string, load: () => Promise<T>): Promise<T> {
    const cache = this.cache;
    if (cache === undefined) return load();
    const hit = cache.get<T>(namespace, tag);
    if (hit !== undefined) {
      this.counters.cacheHits++;
      return hit;
    }
    this.counters.cacheMisses++;
    const value = await load();
    cache.set(namespace, tag, value);
    return value;
  }

  private containerInfoOf(minidriver: Minidriver, index: number): Promise<ContainerInfo> {
    return this.cached('container', `info:${index}`, () => minidriver.getContainerInfo(index));
  }

  /** The public key BLOB of the half of a container that `keySpec` names, or SCARD_E_NO_KEY_CONTAINER. */
  private async keyOf(minidriver: Minidriver, index: number, keySpec: KeySpec) {
    const info = await this.containerInfoOf(minidriver, index);
    const useSignatureHalf = keySpec === KeySpec.AT_SIGNATURE || isEcdsaKeySpec(keySpec);
    const blob = useSignatureHalf ? info.signaturePublicKey : info.keyExchangePublicKey;
    if (blob === undefined) {
      throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no key for key spec ${keySpec}`);
    }
    const key = keyBlobInfo(blob);
    const fits = isRsaKeySpec(keySpec)
      ? key.algorithm === 'RSA'
      : isEcdsaKeySpec(keySpec)
        ? key.algorithm === 'ECDSA'
        : isEcdhKeySpec(keySpec) && key.algorithm === 'ECDH';
    if (!fits) {
      throw new ScardError(
        'SCARD_E_NO_KEY_CONTAINER',
        `container ${index} holds no ${keySpec} key (it has ${key.algorithm})`,
      );
    }
    return key;
  }

  // ---------------------------------------------------------------------------------------------------
  // Context

  /** The CP_CARD_CACHE_MODE in effect (GLOBAL degrades to SESSION_ONLY on a card without cardid/cardcf). */
  get cacheMode(): CacheMode {
    return this.mode;
  }

  /** The PINs this session authenticated and has not deauthenticated (dropped on reset/removal). */
  get authenticatedPins(): PinSet {
    return this.authenticated;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Cache and transaction counters (a copy). */
  stats(): CardSessionStats {
    return { ...this.counters };
  }

  /**
   * CardDeleteContext: no transaction, never fails, never disturbs other sessions. Waits for calls already
   * running, then lets the plugin release its state. Does not close the transport (the caller owns it).
   * Closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue.catch(() => undefined);
    try {
      await this.minidriver.deleteContext();
    } catch {
      // CardDeleteContext must succeed; the card may be gone.
    }
    if (this.mode !== CacheMode.GLOBAL_CACHE) this.cache?.clear();
    this.cache = undefined;
    this.authenticated = 0;
  }

  /**
   * Runs a card-specific management operation (outside the minidriver contract, written by the card's
   * package) inside one transaction of this session, serialised with its other calls. The operation may
   * change anything on the card, so afterwards the session forgets what it had cached and which PINs it
   * held authenticated. Only ScardError escapes; not available in no-card mode.
   */
  manage<T>(operation: CardManagementOperation<T>): Promise<T> {
    try {
      this.requireOpen();
      if (this.noCardMode) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'no card management in no-card mode');
      if (typeof operation !== 'function') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'operation is missing');
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
    const run = this.queue.then(async () => {
      this.requireOpen();
      try {
        return await withTransaction(this.transport, async (scope) => {
          if (!scope.nested) this.counters.transactions++;
          return operation({ pluginName: this.pluginName, minidriver: this.minidriver, transport: this.transport });
        });
      } catch (error) {
        throw ScardError.from(error, 'card management');
      } finally {
        this.dropAuthentication(0xff);
        this.cache?.clear();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** CardQueryCapabilities. `structureVersion` is CARD_CAPABILITIES.dwVersion (0 counts as 1). */
  queryCapabilities(structureVersion = 1): Promise<CardCapabilities & { version: 1 }> {
    return this.call(
      'queryCapabilities',
      () => resolveStructureVersion('CARD_CAPABILITIES', structureVersion, StructureVersion.CARD_CAPABILITIES),
      async (minidriver) => ({ ...(await minidriver.queryCapabilities()), version: 1 as const }),
      { checkSlot: false },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // PINs and authentication

  /**
   * CardAuthenticatePin: `user` or `admin` with a PIN. A wrong PIN is SCARD_W_WRONG_CHV with `retriesLeft`.
   * The session's copy of the PIN is wiped afterwards.
   */
  authenticatePin(userId: UserId, pin: Uint8Array): Promise<void> {
    return this.call(
      'authenticatePin',
      () => ({ userId: checkUserId(userId), pin: new Uint8Array(checkBytes(pin, 'pbPin', true)) }),
      async (minidriver, args) => {
        try {
          await minidriver.authenticatePin(args.userId, args.pin);
          this.authenticated |= createPinSet(args.userId === 'user' ? ROLE_USER : ROLE_ADMIN);
        } finally {
          wipe(args.pin);
        }
      },
      { checkSlot: false },
    );
  }

  /**
   * CardAuthenticateEx. `flags`: CARD_AUTHENTICATE_GENERATE_SESSION_PIN, CARD_AUTHENTICATE_SESSION_PIN
   * (not both), CARD_PIN_SILENT_CONTEXT. `pinData` undefined = external PIN (PIN pad). Generating a session
   * PIN does not authenticate.
   */
  authenticateEx(pinId: PinId, flags: number, pinData?: Uint8Array): Promise<{ sessionPin?: Uint8Array }> {
    return this.call(
      'authenticateEx',
      () => {
        const id = checkSecretPinId(pinId);
        const checkedFlags = checkFlagBits(
          flags,
          CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN | CARD_PIN_SILENT_CONTEXT,
        );
        const both = CARD_AUTHENTICATE_GENERATE_SESSION_PIN | CARD_AUTHENTICATE_SESSION_PIN;
        if ((checkedFlags & both) === both) {
          throw new ScardError('SCARD_E_INVALID_PARAMETER', 'GENERATE_SESSION_PIN and SESSION_PIN together');
        }
        const data = pinData === undefined ? undefined : new Uint8Array(checkBytes(pinData, 'pbPinData', true));
        return { id, checkedFlags, data };
      },
      async (minidriver, args) => {
        try {
          const result = await minidriver.authenticateEx(args.id, args.checkedFlags, args.data);
          if ((args.checkedFlags & CARD_AUTHENTICATE_GENERATE_SESSION_PIN) === 0) {
            this.authenticated |= createPinSet(args.id);
          }
          if (result?.sessionPin === undefined) return {};
          const sessionPin = new Uint8Array(result.sessionPin);
          wipe(result.sessionPin);
          return { sessionPin };
        } finally {
          wipe(args.data);
        }
      },
      { checkSlot: false },
    );
  }

  /** CardGetChallenge: a challenge of the admin key. */
  getChallenge(): Promise<Uint8Array> {
    return this.call(
      'getChallenge',
      () => undefined,
      async (minidriver) => new Uint8Array(await minidriver.getChallenge!()),
    );
  }

  /** CardAuthenticateChallenge: the response to the last challenge authenticates the admin. */
  authenticateChallenge(response: Uint8Array): Promise<void> {
    return this.call(
      'authenticateChallenge',
      () => new Uint8Array(checkBytes(response, 'pbResponseData')),
      async (minidriver, data) => {
        try {
          await minidriver.authenticateChallenge!(data);
          this.authenticated |= createPinSet(ROLE_ADMIN);
        } finally {
          wipe(data);
        }
      },
    );
  }

  /** CardGetChallengeEx: a challenge for a challenge/response PIN. `flags` must be 0. */
  getChallengeEx(pinId: PinId, flags = 0): Promise<Uint8Array> {
    return this.call(
      'getChallengeEx',
      () => {
        const id = checkSecretPinId(pinId);
        checkZeroFlags(flags);
        return id;
      },
      async (minidriver, id) => new Uint8Array(await minidriver.getChallengeEx!(id)),
    );
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
    return this.call(
      'unblockPin',
      () => {
        if (userId === 'admin') throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'the admin cannot be unblocked');
        if (userId !== 'user') throw new ScardError('SCARD_E_INVALID_PARAMETER', 'user id must be "user"');
        const authentication = checkBytes(authenticationData, 'pbAuthenticationData');
        const pin = checkBytes(newPin, 'pbNewPinData');
        const retries = checkDword(retryCount, 'cRetryCount');
        const mode = this.authenticationMode(flags);
        return { authentication: new Uint8Array(authentication), pin: new Uint8Array(pin), retries, mode };
      },
      async (minidriver, args) => {
        try {
          await minidriver.unblockPin!('user', args.authentication, args.pin, args.retries, args.mode);
        } finally {
          wipe(args.authentication, args.pin);
        }
        await this.bumpFreshness('pins');
      },
    );
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
    return this.call(
      'changeAuthenticator',
      () => {
        const user = checkUserId(userId);
        const current = checkBytes(currentAuthenticator, 'pbCurrentAuthenticator');
        const next = checkBytes(newAuthenticator, 'pbNewAuthenticator');
        const retries = checkDword(retryCount, 'cRetryCount');
        const mode = this.authenticationMode(flags);
        if (mode === 'challenge-response' && user === 'user') {
          throw new ScardError('SCARD_E_INVALID_PARAMETER', 'challenge/response applies to the admin only');
        }
        return { user, current: new Uint8Array(current), next: new Uint8Array(next), retries, mode };
      },
      async (minidriver, args) => {
        try {
          await minidriver.changeAuthenticator!(args.user, args.current, args.next, args.retries, args.mode);
        } finally {
          wipe(args.current, args.next);
        }
        await this.bumpFreshness('pins');
      },
    );
  }

  private authenticationMode(flags: unknown): 'challenge-response' | 'pin' {
    if (flags === CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE) return 'challenge-response';
    if (flags === CARD_AUTHENTICATE_PIN_PIN) return 'pin';
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `dwFlags ${String(flags)} is not 1 (challenge/response) or 2 (PIN)`,
    );
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
    return this.call(
      'changeAuthenticatorEx',
      () => {
        const checkedFlags = checkFlagBits(
          flags,
          PIN_CHANGE_FLAG_UNBLOCK | PIN_CHANGE_FLAG_CHANGEPIN | CARD_PIN_SILENT_CONTEXT,
        );
        const unblock = (checkedFlags & PIN_CHANGE_FLAG_UNBLOCK) !== 0;
        const change = (checkedFlags & PIN_CHANGE_FLAG_CHANGEPIN) !== 0;
        if (unblock === change) {
          throw new ScardError(
            'SCARD_E_INVALID_PARAMETER',
            'dwFlags needs exactly one of PIN_CHANGE_FLAG_UNBLOCK and _CHANGEPIN',
          );
        }
        const authenticatingId = checkSecretPinId(authenticatingPinId, 'dwAuthenticatingPinId');
        const targetId = checkSecretPinId(targetPinId, 'dwTargetPinId');
        if (unblock && authenticatingId === targetId) {
          throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a PIN cannot unblock itself');
        }
        const authentication = checkBytes(authenticatingData, 'pbAuthenticatingPinData');
        const target = checkBytes(targetData, 'pbTargetData');
        return {
          operation: unblock ? ('unblock' as const) : ('change' as const),
          authenticatingPinId: authenticatingId,
          authenticatingData: new Uint8Array(authentication),
          targetPinId: targetId,
          targetData: new Uint8Array(target),
          retryCount: checkDword(retryCount, 'cRetryCount'),
          silent: (checkedFlags & CARD_PIN_SILENT_CONTEXT) !== 0,
        };
      },
      async (minidriver, request) => {
        try {
          await minidriver.changeAuthenticatorEx!(request);
        } finally {
          wipe(request.authenticatingData, request.targetData);
        }
        await this.bumpFreshness('pins');
      },
    );
  }

  /**
   * CardDeauthenticate (v4): when the plugin has no such slot, or it fails, the transaction ends with a card
   * reset instead (the caller's fallback, §5.2.6) and the call succeeds.
   */
  deauthenticate(userId: UserId, flags = 0): Promise<void> {
    return this.call(
      'deauthenticate',
      () => {
        const user = checkUserId(userId);
        checkZeroFlags(flags);
        return user;
      },
      async (minidriver, user, scope) => {
        if (typeof minidriver.deauthenticate === 'function') {
          try {
            await minidriver.deauthenticate(user);
            this.dropAuthentication(createPinSet(user === 'user' ? ROLE_USER : ROLE_ADMIN));
            return;
          } catch (error) {
            if (ScardError.hasCode(error, 'SCARD_W_REMOVED_CARD')) throw error;
          }
        }
        scope.requestReset();
        this.dropAuthentication(0xff);
      },
      { checkSlot: false },
    );
  }

  /**
   * CardDeauthenticateEx(pinSet): bits above 0xFF or non-zero flags → SCARD_E_INVALID_PARAMETER. When the
   * plugin answers SCARD_E_UNSUPPORTED_FEATURE the transaction ends with a card reset and the call succeeds
   * (§5.2.10); any other failure also resets the card and is thrown.
   */
  deauthenticateEx(pinSet: PinSet, flags = 0): Promise<void> {
    return this.call(
      'deauthenticateEx',
      () => {
        const set = checkFlagBits(pinSet, 0xff, 'PIN_SET');
        checkZeroFlags(flags);
        return set;
      },
      async (minidriver, set, scope) => {
        try {
          await minidriver.deauthenticateEx(set);
          this.dropAuthentication(set);
        } catch (error) {
          scope.requestReset();
          this.dropAuthentication(0xff);
          if (!ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE')) throw error;
        }
      },
      { checkSlot: false },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Directories and files

  /** CardCreateDirectory: access condition UserCreateDeleteDirAc or AdminCreateDeleteDirAc. Bumps files. */
  createDirectory(name: string, accessCondition: number): Promise<void> {
    return this.call(
      'createDirectory',
      () => ({ directory: checkFileName(name), condition: checkDirectoryAccessCondition(accessCondition) }),
      async (minidriver, args) => {
        await minidriver.createDirectory!(args.directory, args.condition);
        await this.bumpFreshness('files');
      },
    );
  }

  /** CardDeleteDirectory. Bumps files. */
  deleteDirectory(name: string): Promise<void> {
    return this.call(
      'deleteDirectory',
      () => checkFileName(name),
      async (minidriver, directory) => {
        await minidriver.deleteDirectory!(directory);
        await this.bumpFreshness('files');
      },
    );
  }

  /** CardCreateFile. Bumps files. */
  createFile(directory: string | null, name: string, initialSize: number, accessCondition: number): Promise<void> {
    return this.call(
      'createFile',
      () => ({
        directory: checkDirectoryName(directory),
        file: checkFileName(name),
        size: checkDword(initialSize, 'cbInitialCreationSize'),
        condition: checkFileAccessCondition(accessCondition),
      }),
      async (minidriver, args) => {
        await minidriver.createFile!(args.directory, args.file, args.size, args.condition);
        await this.bumpFreshness('files');
      },
    );
  }

  /**
   * CardReadFile: the whole file, from the cache when it is valid. In GLOBAL mode a read of cardcf returns
   * the copy read at the start of this call's transaction.
   */
  readFile(directory: string | null, name: string, flags = 0): Promise<Uint8Array> {
    return this.call(
      'readFile',
      () => {
        const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
        checkZeroFlags(flags);
        return args;
      },
      async (minidriver, args) => {
        if (args.directory === null && args.file === LogicalName.CACHE_FILE) {
          if (this.transactionCardcf !== undefined) {
            this.counters.cacheHits++;
            return new Uint8Array(this.transactionCardcf.bytes);
          }
          return new Uint8Array(await this.readUncached(LogicalName.CACHE_FILE));
        }
        if (args.directory === null && args.file === LogicalName.CARD_IDENTIFIER_FILE) {
          // cardid validates the cache itself: read it with the plugin's cache functions off (§4.8).
          return this.cached('file', cacheTagOf(null, args.file), () => this.readUncached(args.file));
        }
        const data = await this.cached('file', cacheTagOf(args.directory, args.file), () =>
          minidriver.readFile(args.directory, args.file),
        );
        return new Uint8Array(data);
      },
      { checkSlot: false },
    );
  }

  /**
   * CardWriteFile: replaces the contents. Bumps files and writes cardcf back; a caller writing cardcf itself
   * invalidates the whole cache instead.
   */
  writeFile(directory: string | null, name: string, data: Uint8Array, flags = 0): Promise<void> {
    return this.call(
      'writeFile',
      () => {
        const args = {
          directory: checkDirectoryName(directory),
          file: checkFileName(name),
          data: new Uint8Array(checkBytes(data, 'pbData', true)),
        };
        checkZeroFlags(flags);
        return args;
      },
      async (minidriver, args) => {
        await minidriver.writeFile!(args.directory, args.file, args.data);
        await this.afterFileChange(args.directory, args.file);
      },
    );
  }

  /** CardDeleteFile. Bumps files. */
  deleteFile(directory: string | null, name: string, flags = 0): Promise<void> {
    return this.call(
      'deleteFile',
      () => {
        const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
        checkZeroFlags(flags);
        return args;
      },
      async (minidriver, args) => {
        await minidriver.deleteFile!(args.directory, args.file);
        await this.afterFileChange(args.directory, args.file);
      },
    );
  }

  private async afterFileChange(directory: DirectoryName, file: string): Promise<void> {
    if (directory === null && (file === LogicalName.CACHE_FILE || file === LogicalName.CARD_IDENTIFIER_FILE)) {
      // The caller changed what validates the cache: trust nothing cached.
      this.cache?.clear();
      this.transactionCardcf = undefined;
      return;
    }
    await this.bumpFreshness('files');
  }

  /** CardEnumFiles: the file names of a directory (null or "" = root). */
  enumFiles(directory: string | null, flags = 0): Promise<string[]> {
    return this.call(
      'enumFiles',
      () => {
        const checked = checkDirectoryName(directory, true);
        checkZeroFlags(flags);
        return checked;
      },
      async (minidriver, checked) => [...(await minidriver.enumFiles(checked))],
      { checkSlot: false },
    );
  }

  /** CardGetFileInfo. `structureVersion` is CARD_FILE_INFO.dwVersion. */
  getFileInfo(directory: string | null, name: string, structureVersion = 1): Promise<CardFileInfo & { version: 1 }> {
    return this.call(
      'getFileInfo',
      () => {
        const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
        resolveStructureVersion('CARD_FILE_INFO', structureVersion, StructureVersion.CARD_FILE_INFO);
        return args;
      },
      async (minidriver, args) => ({
        ...(await minidriver.getFileInfo(args.directory, args.file)),
        version: 1 as const,
      }),
      { checkSlot: false },
    );
  }

  /** CardQueryFreeSpace. */
  queryFreeSpace(flags = 0, structureVersion = 1): Promise<CardFreeSpaceInfo & { version: 1 }> {
    return this.call(
      'queryFreeSpace',
      () => {
        checkZeroFlags(flags);
        resolveStructureVersion('CARD_FREE_SPACE_INFO', structureVersion, StructureVersion.CARD_FREE_SPACE_INFO);
      },
      async (minidriver) => ({ ...(await minidriver.queryFreeSpace()), version: 1 as const }),
      { checkSlot: false },
    );
  }

  /** CardQueryKeySizes. A key spec of 0 means RSA (AT_KEYEXCHANGE), as legacy callers pass it (§5.5.1). */
  queryKeySizes(keySpec: number, flags = 0, structureVersion = 1): Promise<CardKeySizes & { version: 1 }> {
    return this.call(
      'queryKeySizes',
      () => {
        checkZeroFlags(flags);
        const spec = keySpec === 0 ? KeySpec.AT_KEYEXCHANGE : checkKeySpec(keySpec);
        resolveStructureVersion('CARD_KEY_SIZES', structureVersion, StructureVersion.CARD_KEY_SIZES);
        return spec;
      },
      async (minidriver, spec) => ({
        ...(await this.cached('container', `keysizes:${spec}`, () => minidriver.queryKeySizes(spec))),
        version: 1 as const,
      }),
      { checkSlot: false },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Containers

  /**
   * CardCreateContainer: `flags` CARD_CREATE_CONTAINER_KEY_GEN (with `keySize` bits for RSA, 0 for ECC) or
   * CARD_CREATE_CONTAINER_KEY_IMPORT (with `keyData`). The key is bound to ROLE_USER. Bumps containers.
   */
  createContainer(index: number, flags: number, keySpec: number, keySize: number, keyData?: Uint8Array): Promise<void> {
    return this.call(
      'createContainer',
      () => this.checkCreateContainer(index, flags, keySpec, keySize, keyData, ROLE_USER),
      async (minidriver, args) => {
        try {
          await minidriver.createContainer!(args.index, args.request);
        } finally {
          wipe(args.request.keyData);
        }
        await this.bumpFreshness('containers');
      },
    );
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
    return this.call(
      'createContainerEx',
      () => this.checkCreateContainer(index, flags, keySpec, keySize, keyData, pinId),
      async (minidriver, args) => {
        try {
          await minidriver.createContainerEx!(args.index, args.request);
        } finally {
          wipe(args.request.keyData);
        }
        await this.bumpFreshness('containers');
      },
    );
  }

  private checkCreateContainer(
    index: number,
    flags: number,
    keySpec: number,
    keySize: number,
    keyData: Uint8Array | undefined,
    pinId: number,
  ) {
    const checkedIndex = checkContainerIndex(index);
    if (flags !== CARD_CREATE_CONTAINER_KEY_GEN && flags !== CARD_CREATE_CONTAINER_KEY_IMPORT) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `dwFlags ${String(flags)} is not KEY_GEN (1) or KEY_IMPORT (2)`,
      );
    }
    const spec = checkKeySpec(keySpec);
    const size = checkDword(keySize, 'dwKeySize');
    const protectingPin = checkSecretPinId(pinId);
    if (flags === CARD_CREATE_CONTAINER_KEY_GEN) {
      if (isRsaKeySpec(spec) ? size === 0 : size !== 0) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `dwKeySize ${size} is wrong for key spec ${spec} (ECC needs 0)`,
        );
      }
      return {
        index: checkedIndex,
        request: { mode: 'generate' as const, keySpec: spec, keySize: size, pinId: protectingPin } as {
          mode: 'generate' | 'import';
          keySpec: KeySpec;
          keySize: number;
          keyData?: Uint8Array;
          pinId: PinId;
        },
      };
    }
    const blob = new Uint8Array(checkBytes(keyData, 'pbKeyData'));
    return {
      index: checkedIndex,
      request: { mode: 'import' as const, keySpec: spec, keySize: 0, keyData: blob, pinId: protectingPin } as {
        mode: 'generate' | 'import';
        keySpec: KeySpec;
        keySize: number;
        keyData?: Uint8Array;
        pinId: PinId;
      },
    };
  }

  /** CardDeleteContainer: `reserved` must be 0; an empty index succeeds. Bumps containers. */
  deleteContainer(index: number, reserved = 0): Promise<void> {
    return this.call(
      'deleteContainer',
      () => {
        const checked = checkContainerIndex(index);
        checkZeroFlags(reserved, 'dwReserved');
        return checked;
      },
      async (minidriver, checked) => {
        await minidriver.deleteContainer!(checked);
        await this.bumpFreshness('containers');
      },
    );
  }

  /** CardGetContainerInfo: the container's public key BLOBs (cached; copies). */
  getContainerInfo(index: number, flags = 0, structureVersion = 1): Promise<ContainerInfo & { version: 1 }> {
    return this.call(
      'getContainerInfo',
      () => {
        const checked = checkContainerIndex(index);
        checkZeroFlags(flags);
        resolveStructureVersion('CONTAINER_INFO', structureVersion, StructureVersion.CONTAINER_INFO);
        return checked;
      },
      async (minidriver, checked) => ({ ...(await this.containerInfoOf(minidriver, checked)), version: 1 as const }),
      { checkSlot: false },
    );
  }

  /** CardGetContainerProperty: CCP_CONTAINER_INFO, CCP_PIN_IDENTIFIER, CCP_ASSOCIATED_ECDH_KEY (cached). */
  getContainerProperty<K extends ContainerPropertyName>(
    index: number,
    name: K,
    flags = 0,
  ): Promise<ContainerPropertyTypes[K]> {
    return this.call(
      'getContainerProperty',
      () => ({ index: checkContainerIndex(index), name: checkContainerProperty(name, flags) as K }),
      (minidriver, args) => this.containerPropertyOf(minidriver, args.index, args.name),
      { checkSlot: false },
    );
  }

  private containerPropertyOf<K extends ContainerPropertyName>(
    minidriver: Minidriver,
    index: number,
    name: K,
  ): Promise<ContainerPropertyTypes[K]> {
    if (name === ContainerProperty.CCP_CONTAINER_INFO) {
      return this.containerInfoOf(minidriver, index) as Promise<ContainerPropertyTypes[K]>;
    }
    return this.cached('container', `property:${index}:${name}`, () => minidriver.getContainerProperty(index, name));
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
    return this.call(
      'getContainerProperty',
      () => {
        const args = { index: checkContainerIndex(index), name: checkContainerProperty(name, flags) };
        if (bufferSize !== undefined) checkDword(bufferSize, 'cbData');
        return args;
      },
      async (minidriver, args) => {
        const value = await this.containerPropertyOf(minidriver, args.index, args.name);
        return fitBuffer(encodeContainerProperty(args.name, value), bufferSize);
      },
      { checkSlot: false },
    );
  }

  /** CardSetContainerProperty: CCP_PIN_IDENTIFIER or CCP_ASSOCIATED_ECDH_KEY. Bumps containers. */
  setContainerProperty<K extends ContainerPropertyName>(
    index: number,
    name: K,
    value: ContainerPropertyTypes[K],
    flags = 0,
  ): Promise<void> {
    return this.call(
      'setContainerProperty',
      () => ({ index: checkContainerIndex(index), name: checkSetContainerProperty(name, value, flags) as K }),
      async (minidriver, args) => {
        await minidriver.setContainerProperty!(args.index, args.name, value);
        await this.bumpFreshness('containers');
      },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Card properties

  /** CardGetProperty: `flags` is a key spec, PIN id or operation class for the properties that take one, else 0. */
  getProperty<K extends CardPropertyName>(name: K, flags = 0): Promise<CardPropertyTypes[K]> {
    return this.call(
      'getProperty',
      () => checkGetProperty(name, flags) as K,
      async (minidriver, checked) => cloneValue(await minidriver.getProperty(checked, flags)),
      { checkSlot: false },
    );
  }

  /**
   * CardGetProperty with the spec's byte layout (`encodeCardProperty`): e.g. a DWORD as 4 bytes
   * little-endian. A `bufferSize` smaller than the value → {@link InsufficientBufferError}
   * (ERROR_INSUFFICIENT_BUFFER, `requiredSize` = what `*pdwDataLen` receives).
   */
  getPropertyBytes(name: CardPropertyName, flags = 0, bufferSize?: number): Promise<Uint8Array> {
    return this.call(
      'getProperty',
      () => {
        const checked = checkGetProperty(name, flags);
        if (bufferSize !== undefined) checkDword(bufferSize, 'cbData');
        return checked;
      },
      async (minidriver, checked) =>
        fitBuffer(encodeCardProperty(checked, await minidriver.getProperty(checked, flags)), bufferSize),
      { checkSlot: false },
    );
  }

  /** CardSetProperty: only the settable properties of §7.1 (others → SCARD_E_UNSUPPORTED_FEATURE). */
  setProperty<K extends CardPropertyName>(name: K, value: CardPropertyTypes[K], flags = 0): Promise<void> {
    return this.call(
      'setProperty',
      () => checkSetProperty(name, value, flags) as K,
      async (minidriver, checked) => {
        await minidriver.setProperty(checked, cloneValue(value), flags);
      },
      { checkSlot: false },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Cryptography

  /**
   * CardSignData with a spec-shaped CARD_SIGNING_INFO (checks of §5.6.1, matrix of §9.3). With
   * CARD_BUFFER_SIZE_ONLY the session answers the size from the container's public key (cached) and the
   * plugin is not asked to sign. RSA signatures are little-endian, ECDSA `r || s` big-endian.
   */
  signData(info: CardSigningInfo): Promise<{ signature?: Uint8Array; size: number }> {
    return this.call(
      'signData',
      () => normaliseSigningInfo(info),
      async (minidriver, { request, sizeOnly }) => {
        if (sizeOnly) {
          const key = await this.keyOf(minidriver, request.containerIndex, request.keySpec);
          const bytes = Math.ceil(key.bits / 8);
          return { size: key.algorithm === 'RSA' ? bytes : 2 * bytes };
        }
        const signature = new Uint8Array(await minidriver.signData(request));
        return { signature, size: signature.length };
      },
      { checkSlot: false },
    );
  }

  /**
   * CardRSADecrypt with a spec-shaped CARD_RSA_DECRYPT_INFO (§5.6.2, §9.2): version 1 is refused with
   * CARD_DATA 7 and means "raw block" below it; input shorter than the modulus → SCARD_E_INSUFFICIENT_BUFFER,
   * longer → SCARD_E_INVALID_PARAMETER. Returns the result little-endian (raw block or unpadded message).
   */
  rsaDecrypt(info: CardRsaDecryptInfo): Promise<Uint8Array> {
    return this.call(
      'rsaDecrypt',
      () => normaliseDecryptInfo(info, this.version),
      async (minidriver, request) => {
        const key = await this.keyOf(minidriver, request.containerIndex, request.keySpec);
        const modulusBytes = Math.ceil(key.bits / 8);
        if (request.data.length < modulusBytes) {
          throw new ScardError(
            'SCARD_E_INSUFFICIENT_BUFFER',
            `cbData ${request.data.length} is below the modulus length ${modulusBytes}`,
          );
        }
        if (request.data.length > modulusBytes) {
          throw new ScardError(
            'SCARD_E_INVALID_PARAMETER',
            `cbData ${request.data.length} is above the modulus length ${modulusBytes}`,
          );
        }
        return new Uint8Array(await minidriver.rsaDecrypt!(request));
      },
    );
  }

  /** CardConstructDHAgreement: returns the agreement index the plugin keeps. */
  constructDHAgreement(info: CardDhAgreementInfo): Promise<number> {
    return this.call(
      'constructDHAgreement',
      () => normaliseAgreementInfo(info, this.version),
      (minidriver, request) => minidriver.constructDHAgreement!(request),
    );
  }

  /**
   * CardDeriveKey: the derived bytes, or with CARD_BUFFER_SIZE_ONLY only their size (the plugin derives and
   * the session wipes the bytes: the size of some KDFs depends on their parameters).
   */
  deriveKey(info: CardDeriveKeyInfo): Promise<{ derivedKey?: Uint8Array; size: number }> {
    return this.call(
      'deriveKey',
      () => normaliseDeriveKeyInfo(info),
      async (minidriver, { request, sizeOnly }) => {
        const derived = await minidriver.deriveKey!(request);
        const size = derived.length;
        if (sizeOnly) {
          wipe(derived);
          return { size };
        }
        const derivedKey = new Uint8Array(derived);
        wipe(derived);
        return { derivedKey, size };
      },
    );
  }

  /** CardDestroyDHAgreement: `flags` must be 0. */
  destroyDHAgreement(agreementIndex: number, flags = 0): Promise<void> {
    return this.call(
      'destroyDHAgreement',
      () => {
        const index = checkContainerIndex(agreementIndex);
        checkZeroFlags(flags);
        return index;
      },
      (minidriver, index) => minidriver.destroyDHAgreement!(index),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Secure key injection (v7, optional; forwarded when the plugin has them)

  /** MDImportSessionKey. */
  mdImportSessionKey(blobType: string, algorithmId: string, input: Uint8Array): Promise<CardKeyHandle> {
    return this.call(
      'mdImportSessionKey',
      () => ({
        blobType: checkText(blobType, 'pwszBlobType'),
        algorithmId: checkText(algorithmId, 'pwszAlgId'),
        input: new Uint8Array(checkBytes(input, 'pbInput')),
      }),
      async (minidriver, args) => {
        try {
          return await minidriver.mdImportSessionKey!(args.blobType, args.algorithmId, args.input);
        } finally {
          wipe(args.input);
        }
      },
    );
  }

  /** MDEncryptData. */
  mdEncryptData(
    key: CardKeyHandle,
    secureFunction: string,
    input: Uint8Array,
    flags = 0,
  ): Promise<CardEncryptedData[]> {
    return this.call(
      'mdEncryptData',
      () => ({
        key: checkDword(key, 'hKey'),
        secureFunction: checkText(secureFunction, 'pwszSecureFunction'),
        input: new Uint8Array(checkBytes(input, 'pbInput')),
        flags: checkDword(flags, 'dwFlags'),
      }),
      async (minidriver, args) => {
        try {
          const blobs = await minidriver.mdEncryptData!(args.key, args.secureFunction, args.input, args.flags);
          return blobs.map((blob) => ({ data: new Uint8Array(blob.data) }));
        } finally {
          wipe(args.input);
        }
      },
    );
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
    return this.call(
      'importSessionKey',
      () => ({
        index: checkContainerIndex(containerIndex),
        blobType: checkText(blobType, 'pwszBlobType'),
        algorithmId: checkText(algorithmId, 'pwszAlgId'),
        input: new Uint8Array(checkBytes(input, 'pbInput')),
        flags: checkDword(flags, 'dwFlags'),
      }),
      (minidriver, args) =>
        minidriver.importSessionKey!(args.index, padding, args.blobType, args.algorithmId, args.input, args.flags),
    );
  }

  /** CardGetSharedKeyHandle. */
  getSharedKeyHandle(input: Uint8Array): Promise<{ handle: CardKeyHandle; output?: Uint8Array }> {
    return this.call(
      'getSharedKeyHandle',
      () => new Uint8Array(checkBytes(input, 'pbInput')),
      async (minidriver, data) => {
        const result = await minidriver.getSharedKeyHandle!(data);
        return result.output === undefined
          ? { handle: result.handle }
          : { handle: result.handle, output: new Uint8Array(result.output) };
      },
    );
  }

  /** CardGetAlgorithmProperty. */
  getAlgorithmProperty(algorithmId: string, property: string, flags = 0): Promise<Uint8Array> {
    return this.call(
      'getAlgorithmProperty',
      () => ({
        algorithmId: checkText(algorithmId, 'pwszAlgId'),
        property: checkText(property, 'pwszProperty'),
        flags: checkDword(flags, 'dwFlags'),
      }),
      async (minidriver, args) =>
        new Uint8Array(await minidriver.getAlgorithmProperty!(args.algorithmId, args.property, args.flags)),
    );
  }

  /** CardGetKeyProperty: `flags` must be 0. */
  getKeyProperty(key: CardKeyHandle, property: string, flags = 0): Promise<Uint8Array> {
    return this.call(
      'getKeyProperty',
      () => {
        checkZeroFlags(flags);
        return { key: checkDword(key, 'hKey'), property: checkText(property, 'pwszProperty') };
      },
      async (minidriver, args) => new Uint8Array(await minidriver.getKeyProperty!(args.key, args.property, 0)),
    );
  }

  /** CardSetKeyProperty: `flags` must be 0. */
  setKeyProperty(key: CardKeyHandle, property: string, value: Uint8Array, flags = 0): Promise<void> {
    return this.call(
      'setKeyProperty',
      () => {
        checkZeroFlags(flags);
        return {
          key: checkDword(key, 'hKey'),
          property: checkText(property, 'pwszProperty'),
          value: new Uint8Array(checkBytes(value, 'pbInput')),
        };
      },
      (minidriver, args) => minidriver.setKeyProperty!(args.key, args.property, args.value, 0),
    );
  }

  /** CardDestroyKey. */
  destroyKey(key: CardKeyHandle): Promise<void> {
    return this.call(
      'destroyKey',
      () => checkDword(key, 'hKey'),
      (minidriver, handle) => minidriver.destroyKey!(handle),
    );
  }

  /** CardProcessEncryptedData. */
  processEncryptedData(
    key: CardKeyHandle,
    secureFunction: string,
    data: readonly CardEncryptedData[],
    flags = 0,
  ): Promise<Uint8Array> {
    return this.call(
      'processEncryptedData',
      () => {
        if (!Array.isArray(data) || data.length === 0) {
          throw new ScardError('SCARD_E_INVALID_PARAMETER', 'pEncryptedData is missing');
        }
        return {
          key: checkDword(key, 'hKey'),
          secureFunction: checkText(secureFunction, 'pwszSecureFunction'),
          blobs: data.map((blob) => ({ data: new Uint8Array(checkBytes(blob?.data, 'CARD_ENCRYPTED_DATA')) })),
          flags: checkDword(flags, 'dwFlags'),
        };
      },
      async (minidriver, args) =>
        new Uint8Array(await minidriver.processEncryptedData!(args.key, args.secureFunction, args.blobs, args.flags)),
    );
  }
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} is missing`);
  return value;
}

function fitBuffer(bytes: Uint8Array, bufferSize: number | undefined): Uint8Array {
  if (bufferSize !== undefined && bufferSize < bytes.length)
    throw new InsufficientBufferError(bytes.length, bufferSize);
  return new Uint8Array(bytes);
}
