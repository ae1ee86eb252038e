/**
 * PcscContext: one SCARDCONTEXT. Lists readers, waits for reader/card changes, connects to cards.
 * Cards keep their context alive; releasing the context disconnects the cards it opened.
 */
import { type CardProtocol, ScardError } from '@minidriver/spec';
import {
  SCARD_PROTOCOL_T0,
  SCARD_PROTOCOL_T1,
  SCARD_SCOPE_SYSTEM,
  SCARD_SCOPE_USER,
  SCARD_SHARE_DIRECT,
  SCARD_SHARE_EXCLUSIVE,
  SCARD_SHARE_SHARED,
} from './constants.js';
import { check, scardFailure, succeeded } from './errors.js';
import { loadPcscLibrary, type NativeHandle, type PcscLibrary, readerStateAtr, readerStateFor } from './native.js';
import { PcscCard } from './pcsc-card.js';
import { listReaderNames } from './reader-names.js';
import { ReaderWatch, type WatchOptions } from './reader-watch.js';

/** Options for {@link PcscContext.establish}. */
export interface EstablishOptions {
  /** SCARD_SCOPE_USER or SCARD_SCOPE_SYSTEM (default `system`, as pcsclite ignores it anyway). */
  readonly scope?: 'user' | 'system';
}

/** Options for {@link PcscContext.connect}. */
export interface ConnectOptions {
  /** `shared` (default): others may connect too; `exclusive`: nobody else; `direct`: talk to the reader without a card. */
  readonly share?: 'shared' | 'exclusive' | 'direct';
  /** Acceptable protocols (default T0 and T1). */
  readonly protocols?: readonly CardProtocol[];
}

/** One reader's state as SCardGetStatusChange reports it. */
export interface ReaderStatus {
  readonly readerName: string;
  /** The SCARD_STATE_* bits (dwEventState). */
  readonly eventState: number;
  /** The ATR of the card in the reader, empty when none. */
  readonly atr: Uint8Array;
}

/** A reader to ask about in {@link PcscContext.getStatusChange}, with the state the caller last saw. */
export interface ReaderStateQuery {
  readonly readerName: string;
  /** The SCARD_STATE_* bits the caller knows (0 = SCARD_STATE_UNAWARE). */
  readonly currentState?: number;
}

/** The numeric SCARD_PROTOCOL_* mask for a list of protocols. */
export function protocolMask(protocols: readonly CardProtocol[], library: PcscLibrary): number {
  let mask = 0;
  for (const protocol of protocols) {
    if (protocol === 'T0') mask |= SCARD_PROTOCOL_T0;
    else if (protocol === 'T1') mask |= SCARD_PROTOCOL_T1;
    else if (protocol === 'raw') mask |= library.platform.protocolRaw;
    else throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown protocol ${String(protocol)}`);
  }
  return mask >>> 0;
}

function shareCode(share: ConnectOptions['share']): number {
  if (share === undefined || share === 'shared') return SCARD_SHARE_SHARED;
  if (share === 'exclusive') return SCARD_SHARE_EXCLUSIVE;
  if (share === 'direct') return SCARD_SHARE_DIRECT;
  throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown share mode ${String(share)}`);
}

/** A PC/SC resource manager context (SCARDCONTEXT). */
export class PcscContext implements AsyncDisposable {
  private readonly cards = new Set<PcscCard>();
  private readonly watches = new Set<ReaderWatch>();
  private released = false;

  private constructor(
    private readonly library: PcscLibrary,
    private readonly handle: NativeHandle,
  ) {}

  /**
   * Opens a context (wraps SCardEstablishContext). Throws SCARD_E_NO_SERVICE, with a message saying how to
   * start it, when pcscd / the Smart Card service is not running or the PC/SC library is missing.
   */
  static async establish(options: EstablishOptions = {}): Promise<PcscContext> {
    const library = loadPcscLibrary();
    const handle = [0 as NativeHandle];
    const scope = options.scope === 'user' ? SCARD_SCOPE_USER : SCARD_SCOPE_SYSTEM;
    check(library.establishContext(scope, handle), 'SCardEstablishContext');
    return new PcscContext(library, handle[0] as NativeHandle);
  }

  /** True until {@link release}, while the resource manager still accepts the context (SCardIsValidContext). */
  get isValid(): boolean {
    return !this.released && succeeded(this.library.isValidContext(this.handle));
  }

  /**
   * The names of the readers present (wraps SCardListReaders). An empty list when there are none
   * (pcsclite's SCARD_E_NO_READERS_AVAILABLE).
   */
  async listReaders(): Promise<string[]> {
    this.requireOpen('SCardListReaders');
    return listReaderNames(this.library, this.handle);
  }

  /**
   * Waits until one of `readers` differs from the state given (wraps SCardGetStatusChange), or `timeoutMs`
   * passes (SCARD_E_TIMEOUT). Runs on a worker thread; {@link cancel} ends the wait with SCARD_E_CANCELLED.
   */
  async getStatusChange(readers: readonly ReaderStateQuery[], timeoutMs = 0): Promise<ReaderStatus[]> {
    this.requireOpen('SCardGetStatusChange');
    const states = readers.map((reader) =>
      readerStateFor(reader.readerName, reader.currentState ?? 0, this.library.platform),
    );
    const code = await this.library.getStatusChange(
      this.handle,
      Math.max(0, Math.min(timeoutMs, 0xffffffff)) >>> 0,
      states,
    );
    check(code, 'SCardGetStatusChange', readers.length === 1 ? readers[0]?.readerName : undefined);
    return states.map((state) => ({
      readerName: state.szReader,
      eventState: Number(state.dwEventState),
      atr: readerStateAtr(state),
    }));
  }

  /** Ends a pending {@link getStatusChange} on this context with SCARD_E_CANCELLED (wraps SCardCancel). */
  cancel(): void {
    this.requireOpen('SCardCancel');
    check(this.library.cancel(this.handle), 'SCardCancel');
  }

  /**
   * Watches readers and cards: reader-added, reader-removed, card-inserted (with ATR), card-removed.
   * The watch uses its own context (a blocked SCardGetStatusChange would hold this one) and is both an
   * async iterator and an event emitter; `close()` cancels it (SCardCancel).
   */
  watch(options: WatchOptions = {}): ReaderWatch {
    this.requireOpen('SCardGetStatusChange');
    const watch = new ReaderWatch(this.library, options, () => this.watches.delete(watch));
    this.watches.add(watch);
    return watch;
  }

  /**
   * Connects to the card in `readerName` (wraps SCardConnect), then reads its ATR (SCardStatus) and the
   * reader's PIN pad features (SCardControl CM_IOCTL_GET_FEATURE_REQUEST).
   */
  async connect(readerName: string, options: ConnectOptions = {}): Promise<PcscCard> {
    this.requireOpen('SCardConnect');
    if (typeof readerName !== 'string' || readerName.length === 0) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'SCardConnect: a reader name is required');
    }
    const share = shareCode(options.share);
    // A direct connection to a reader without a card asks for no protocol unless the caller names one.
    const protocols = protocolMask(
      options.protocols ?? (share === SCARD_SHARE_DIRECT ? [] : ['T0', 'T1']),
      this.library,
    );
    const cardHandle = [0 as NativeHandle];
    const activeProtocol = [0];
    const code = await this.library.connect(this.handle, readerName, share, protocols, cardHandle, activeProtocol);
    if (!succeeded(code)) throw scardFailure(code, 'SCardConnect', readerName);
    const card = new PcscCard({
      library: this.library,
      handle: cardHandle[0] as NativeHandle,
      context: this.handle,
      readerName,
      shareMode: share,
      protocolMask: protocols,
      activeProtocol: Number(activeProtocol[0]),
      onClosed: (closed) => this.cards.delete(closed),
    });
    this.cards.add(card);
    try {
      await card.initialize();
    } catch (error) {
      await card.close();
      throw error;
    }
    return card;
  }

  /**
   * Disconnects the cards still open (SCARD_LEAVE_CARD), stops watches and releases the context (wraps
   * SCardReleaseContext). Calling it again does nothing.
   */
  async release(): Promise<void> {
    if (this.released) return;
    await Promise.all([...this.cards].map((card) => card.close('leave')));
    await Promise.all([...this.watches].map((watch) => watch.close()));
    this.released = true;
    check(this.library.releaseContext(this.handle), 'SCardReleaseContext');
  }

  /** Releases like {@link release}; never throws. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.release();
    } catch {
      // The resource manager has already dropped the context.
    }
  }

  private requireOpen(functionName: string): void {
    if (this.released) throw new ScardError('SCARD_E_INVALID_HANDLE', `${functionName}: the context was released`);
  }
}
