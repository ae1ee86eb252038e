/**
 * @packageDocumentation
 * The KeyStore: what Windows' Smart Card Key Storage Provider is to an application. It watches PC/SC
 * readers (every one, or those named), or works on given transports or in-process simulated cards, opens
 * each card through the loader, and keeps one {@link Token} per card with `token-added` / `token-removed`
 * events. Tokens are independent: a card leaving never disturbs the others.
 */
import { EventEmitter } from 'node:events';
import { CardSession, withTransaction } from '@minidriver/core';
import { Loader } from '@minidriver/loader';
import { SimTransport, type SimulatedCard } from '@minidriver/sim';
import { type ApduTraceHook, ScardError, type Transport } from '@minidriver/spec';
import { checkOptions } from './options.js';
import { PcscReaders } from './pcsc-readers.js';
import type { PinPrompt } from './pins.js';
import { Token } from './token.js';
import { isRemoval } from './token-core.js';

/** Options of {@link KeyStore.open}. Unknown members → SCARD_E_INVALID_PARAMETER. */
export interface KeyStoreOptions {
  /**
   * Watch PC/SC readers. Default: true when neither `transports` nor `simulators` is given. `readers`
   * implies it.
   */
  readonly pcsc?: boolean;
  /** The PC/SC readers to watch, by exact name or a part of it (default: every reader, present and future). */
  readonly readers?: readonly string[];
  /**
   * Cards already connected (any Transport): each becomes a token. The store does not close them. A
   * transport whose card cannot be opened makes `open` fail.
   */
  readonly transports?: readonly Transport[];
  /** In-process simulated cards (`new PivSimulator()` ...): each is put in a simulated reader of its own. */
  readonly simulators?: readonly SimulatedCard[];
  /**
   * The loader that picks each card's plugin. Default: a Loader whose application root is the nearest
   * package.json above the program's entry point (or `applicationRoot`).
   */
  readonly loader?: Loader;
  /** The application's directory for the default loader (its package.json declares the card plugins). */
  readonly applicationRoot?: string;
  /** Asked for a PIN when a key operation needs one that no login provided (see Token.login). */
  readonly prompt?: PinPrompt;
  /** Sees every APDU of every token (secrets redacted). */
  readonly trace?: ApduTraceHook;
  /** The CARD_DATA version to request (default 7). */
  readonly version?: number;
}

/** A card the store could not open (no plugin for it, trust refusal, card error). */
export interface CardFailure {
  readonly readerName: string;
  readonly error: ScardError;
}

/** The events of a {@link KeyStore} and their listeners' arguments. */
export interface KeyStoreEvents {
  /** A card was opened: a new token. */
  'token-added': [token: Token];
  /** A token's card left (or the store closed): the token now fails every call with SCARD_W_REMOVED_CARD. */
  'token-removed': [token: Token];
  /** A card was seen but could not be opened; also a failed PC/SC watch (readerName ''). */
  'card-error': [failure: CardFailure];
  /** A watched PC/SC reader was connected (also each reader present when the store opens). */
  'reader-added': [readerName: string];
  /** A watched PC/SC reader was disconnected (its token, if any, was removed first). */
  'reader-removed': [readerName: string];
}

/** Options of {@link KeyStore.waitForToken}. */
export interface WaitForTokenOptions {
  /** Only a token whose reader name is this, or contains it. */
  readonly reader?: string;
  /** Give up after this long: SCARD_E_TIMEOUT. Default: wait until a token comes or the store closes. */
  readonly timeoutMs?: number;
  /** Stops waiting: SCARD_E_CANCELLED. */
  readonly signal?: AbortSignal;
}

/** One place a card can be: a PC/SC reader, a given transport, a simulated reader. */
interface Slot {
  readonly readerName: string;
  transport: Transport | undefined;
  /** The store opened the transport and closes it. */
  readonly ownsTransport: boolean;
  /** PC/SC: connect again at each insertion. */
  readonly pcsc: boolean;
  token: Token | undefined;
  opening: Promise<Token | undefined> | undefined;
  /** Bumped at every removal, so an opening that finishes after it is dropped. */
  generation: number;
  unsubscribe: (() => void) | undefined;
}

const OPTION_NAMES = [
  'pcsc',
  'readers',
  'transports',
  'simulators',
  'loader',
  'applicationRoot',
  'prompt',
  'trace',
  'version',
] as const;

/**
 * The key store. Open it with {@link KeyStore.open}; read {@link tokens}; listen to `token-added`,
 * `token-removed` and `card-error`; {@link close} it when done (or `await using`).
 *
 * @example
 * const store = await KeyStore.open();
 * const token = await store.waitForToken();
 * await token.login('user', process.env.PIN);
 * const [key] = await token.keys();
 * const signature = await key.sign(data, { hash: 'sha256' });
 */
export class KeyStore implements AsyncDisposable {
  private readonly events = new EventEmitter();
  private readonly slots: Slot[] = [];
  private readonly loader: Loader;
  private readonly prompt: PinPrompt | undefined;
  private readonly trace: ApduTraceHook | undefined;
  private readonly version: number | undefined;
  private readonly wantedReaders: readonly string[] | undefined;
  private pcsc: PcscReaders | undefined;
  private isClosed = false;

  private constructor(options: Partial<KeyStoreOptions>) {
    this.loader =
      options.loader ??
      new Loader(options.applicationRoot === undefined ? {} : { applicationRoot: options.applicationRoot });
    this.prompt = options.prompt;
    this.trace = options.trace;
    this.version = options.version;
    this.wantedReaders = options.readers;
  }

  /**
   * Opens a store: the given transports and simulators become tokens, then (when PC/SC is used) the cards
   * present in the watched readers. Resolves once those are open; later cards come as `token-added`.
   */
  static async open(options?: KeyStoreOptions): Promise<KeyStore> {
    const checked = checkStoreOptions(options);
    const store = new KeyStore(checked);
    try {
      for (const transport of checked.transports ?? []) await store.add(transport);
      for (const card of checked.simulators ?? []) {
        const transport = new SimTransport(card, { readerName: `Simulated ${card.name} ${store.slots.length}` });
        await store.attach(transport, { owned: true, pcsc: false, rejectFailure: true });
      }
      const usePcsc =
        checked.pcsc ??
        (checked.readers !== undefined || (checked.transports === undefined && checked.simulators === undefined));
      if (usePcsc) await store.startPcsc();
    } catch (error) {
      await store.close();
      throw ScardError.from(error, 'KeyStore.open');
    }
    return store;
  }

  /** The tokens present now, by reader name. */
  get tokens(): Token[] {
    return this.slots
      .flatMap((slot) => (slot.token && !slot.token.removed ? [slot.token] : []))
      .sort((a, b) => (a.readerName < b.readerName ? -1 : a.readerName > b.readerName ? 1 : 0));
  }

  /**
   * The readers this store uses now, with or without a card, by name: the watched PC/SC readers that are
   * connected, and the readers of given transports and simulated cards.
   */
  get readers(): string[] {
    const names = new Set(this.pcsc?.readerNames() ?? []);
    for (const slot of this.slots) if (!slot.pcsc) names.add(slot.readerName);
    return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Adds a listener. */
  on<E extends keyof KeyStoreEvents>(event: E, listener: (...args: KeyStoreEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Adds a listener called once. */
  once<E extends keyof KeyStoreEvents>(event: E, listener: (...args: KeyStoreEvents[E]) => void): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener. */
  off<E extends keyof KeyStoreEvents>(event: E, listener: (...args: KeyStoreEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * The first token present (by reader name), or the next one added: "the first reader with a card".
   * SCARD_E_TIMEOUT after `timeoutMs`, SCARD_E_CANCELLED when aborted or when the store closes.
   */
  waitForToken(options?: WaitForTokenOptions): Promise<Token> {
    let checked: Partial<WaitForTokenOptions>;
    try {
      checked = checkOptions<WaitForTokenOptions>(options, ['reader', 'timeoutMs', 'signal'], 'waitForToken');
      this.requireOpen();
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
    const matches = (token: Token) => checked.reader === undefined || token.readerName.includes(checked.reader);
    const present = this.tokens.find(matches);
    if (present) return Promise.resolve(present);
    return new Promise<Token>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        this.off('token-added', onAdded);
        this.events.off('closed', onClosed);
        checked.signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
      };
      const onAdded = (token: Token) => {
        if (!matches(token)) return;
        cleanup();
        resolve(token);
      };
      const onClosed = () => {
        cleanup();
        reject(new ScardError('SCARD_E_CANCELLED', 'the key store was closed'));
      };
      const onAbort = () => {
        cleanup();
        reject(new ScardError('SCARD_E_CANCELLED', 'waiting for a token was aborted'));
      };
      this.on('token-added', onAdded);
      this.events.on('closed', onClosed);
      if (checked.signal?.aborted) return onAbort();
      checked.signal?.addEventListener('abort', onAbort, { once: true });
      if (checked.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new ScardError('SCARD_E_TIMEOUT', `no card within ${checked.timeoutMs} ms`));
        }, checked.timeoutMs);
      }
    });
  }

  /**
   * Opens the card behind `transport` as a token (emitting `token-added`) and returns it. The store does not
   * close the transport; it follows its removal/reinsertion events. Fails when the card cannot be opened.
   */
  async add(transport: Transport): Promise<Token> {
    this.requireOpen();
    if (transport === null || typeof transport !== 'object' || typeof transport.transmit !== 'function') {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'add() needs a Transport');
    }
    const token = await this.attach(transport, { owned: false, pcsc: false, rejectFailure: true });
    if (!token) throw new ScardError('SCARD_W_REMOVED_CARD', `the card in "${transport.readerName}" was removed`);
    return token;
  }

  /** Closes every token (each emits `token-removed`), stops watching, closes the connections it opened. Never throws. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pcsc?.close();
    await Promise.all(this.slots.map((slot) => this.releaseSlot(slot)));
    this.events.emit('closed');
  }

  /** {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private requireOpen(): void {
    if (this.isClosed) throw new ScardError('SCARD_E_INVALID_HANDLE', 'the key store is closed');
  }

  private async startPcsc(): Promise<void> {
    this.pcsc = await PcscReaders.start(this.wantedReaders, {
      inserted: (readerName) => {
        void this.pcscInserted(readerName);
      },
      removed: (readerName) => this.pcscRemoved(readerName),
      reader: (readerName, present) => this.events.emit(present ? 'reader-added' : 'reader-removed', readerName),
      failed: (error) => this.emitFailure('', error),
    });
    // The cards present at start: open them now so `tokens` is complete when open resolves.
    const present = await this.pcsc.readersWithCards();
    await Promise.all(present.map((readerName) => this.pcscInserted(readerName)));
  }

  private pcscSlot(readerName: string): Slot {
    let slot = this.slots.find((candidate) => candidate.pcsc && candidate.readerName === readerName);
    if (!slot) {
      slot = {
        readerName,
        transport: undefined,
        ownsTransport: true,
        pcsc: true,
        token: undefined,
        opening: undefined,
        generation: 0,
        unsubscribe: undefined,
      };
      this.slots.push(slot);
    }
    return slot;
  }

  private pcscInserted(readerName: string): Promise<Token | undefined> {
    const slot = this.pcscSlot(readerName);
    if (slot.token || slot.opening) return slot.opening ?? Promise.resolve(slot.token);
    const generation = slot.generation;
    const opening = (async () => {
      let transport: Transport;
      try {
        transport = await (this.pcsc as PcscReaders).connect(readerName);
      } catch (error) {
        if (!isRemoval(error)) this.emitFailure(readerName, ScardError.from(error));
        return undefined;
      }
      if (slot.generation !== generation || this.isClosed) {
        await transport.close();
        return undefined;
      }
      slot.transport = transport;
      return this.openToken(slot, false);
    })();
    slot.opening = opening;
    void opening.finally(() => {
      if (slot.opening === opening) slot.opening = undefined;
    });
    return opening;
  }

  private pcscRemoved(readerName: string): void {
    const slot = this.slots.find((candidate) => candidate.pcsc && candidate.readerName === readerName);
    if (!slot) return;
    slot.generation++;
    if (slot.token) slot.token.markRemoved();
    else void this.releaseConnection(slot);
  }

  /** A slot for a transport given or made here, its events followed, and its token opened. */
  private async attach(
    transport: Transport,
    options: { owned: boolean; pcsc: false; rejectFailure: boolean },
  ): Promise<Token | undefined> {
    const slot: Slot = {
      readerName: transport.readerName,
      transport,
      ownsTransport: options.owned,
      pcsc: false,
      token: undefined,
      opening: undefined,
      generation: 0,
      unsubscribe: undefined,
    };
    this.slots.push(slot);
    slot.unsubscribe = transport.onEvent?.((event) => {
      if (event.type === 'removed') {
        slot.generation++;
        slot.token?.markRemoved();
      } else if (event.type === 'reconnected' && !slot.token && !slot.opening && !this.isClosed) {
        // A simulated card put back: a new token for it.
        const opening = this.openToken(slot, false);
        slot.opening = opening;
        void opening.finally(() => {
          if (slot.opening === opening) slot.opening = undefined;
        });
      }
    });
    const opening = this.openToken(slot, options.rejectFailure);
    slot.opening = opening;
    try {
      return await opening;
    } finally {
      if (slot.opening === opening) slot.opening = undefined;
    }
  }

  /** Chooses the plugin, opens the session and the token, and announces it. Failures → `card-error` (or thrown). */
  private async openToken(slot: Slot, rejectFailure: boolean): Promise<Token | undefined> {
    const transport = slot.transport as Transport;
    const generation = slot.generation;
    let session: CardSession | undefined;
    try {
      const resolution = await this.loader.choosePlugin(transport);
      const plugin = await this.loader.loadPlugin(resolution);
      // CardAcquireContext and the token's first reads in one card transaction: what the one read (the
      // freshness check, the application's selection) the other need not read again.
      const token = await withTransaction(transport, async () => {
        session = await CardSession.open(plugin, transport, {
          cardName: resolution.cardName,
          ...(this.version === undefined ? {} : { version: this.version }),
          ...(this.trace === undefined ? {} : { trace: this.trace }),
        });
        return Token.open({
          session,
          resolution,
          readerName: slot.readerName,
          atr: transport.atr,
          prompt: this.prompt,
          onRemoved: (removed) => this.tokenRemoved(slot, removed),
          cardPresent: () => this.cardPresent(slot, transport),
        });
      });
      if (slot.generation !== generation || this.isClosed) {
        await token.session.close();
        return undefined;
      }
      slot.token = token;
      this.events.emit('token-added', token);
      return token;
    } catch (error) {
      await session?.close();
      const failure = ScardError.from(error, `opening the card in "${slot.readerName}"`);
      if (rejectFailure) throw failure;
      if (!isRemoval(error)) this.emitFailure(slot.readerName, failure);
      if (slot.pcsc) await this.releaseConnection(slot);
      return undefined;
    }
  }

  /** A token's card is gone: forget the token, announce it, close its session (and a PC/SC connection). */
  private tokenRemoved(slot: Slot, token: Token): void {
    if (slot.token !== token) return;
    slot.token = undefined;
    this.events.emit('token-removed', token);
    void token.session.close().then(() => (slot.pcsc ? this.releaseConnection(slot) : undefined));
  }

  /** Whether the card of `slot` is still in its reader (PC/SC reader state, or a simulated reader's). */
  private async cardPresent(slot: Slot, transport: Transport): Promise<boolean> {
    if (slot.pcsc && this.pcsc) return this.pcsc.cardPresent(slot.readerName);
    const simulated = transport as Partial<SimTransport>;
    return typeof simulated.cardPresent === 'boolean' ? simulated.cardPresent : true;
  }

  private async releaseConnection(slot: Slot): Promise<void> {
    const transport = slot.transport;
    slot.transport = undefined;
    if (transport && slot.ownsTransport) await transport.close().catch(() => undefined);
  }

  private async releaseSlot(slot: Slot): Promise<void> {
    slot.generation++;
    await slot.opening?.catch(() => undefined);
    slot.token?.markRemoved();
    slot.unsubscribe?.();
    slot.unsubscribe = undefined;
    await this.releaseConnection(slot);
  }

  private emitFailure(readerName: string, error: ScardError): void {
    this.events.emit('card-error', { readerName, error });
  }
}

function checkStoreOptions(options: KeyStoreOptions | undefined): Partial<KeyStoreOptions> {
  const checked = checkOptions<KeyStoreOptions>(options, OPTION_NAMES, 'KeyStore.open');
  const listOf = (value: unknown, what: string): void => {
    if (value !== undefined && !Array.isArray(value)) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `${what} must be an array`);
    }
  };
  listOf(checked.readers, 'readers');
  listOf(checked.transports, 'transports');
  listOf(checked.simulators, 'simulators');
  if (checked.readers?.some((name) => typeof name !== 'string' || name.length === 0)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'readers must be non-empty strings');
  }
  if (checked.simulators?.some((card) => card === null || typeof card?.process !== 'function')) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'simulators must be SimulatedCard objects');
  }
  if (checked.pcsc !== undefined && typeof checked.pcsc !== 'boolean') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'pcsc must be true or false');
  }
  if (checked.pcsc === false && checked.readers !== undefined) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'readers needs PC/SC (pcsc: false was given)');
  }
  if (checked.prompt !== undefined && typeof checked.prompt !== 'function') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'prompt must be a function');
  }
  if (checked.loader !== undefined && typeof (checked.loader as Partial<Loader>)?.choosePlugin !== 'function') {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'loader must be a Loader');
  }
  return checked;
}
