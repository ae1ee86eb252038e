/**
 * PcscCard: one SCARDHANDLE, implementing core's Transport. Holds an in-process queue so a second
 * beginTransaction waits for the first to end, reconnects by itself after SCARD_W_RESET_CARD and reports
 * resets and removals to its listeners (the session drops its authentication state and cache).
 */
import {
  type CardProtocol,
  type Disposition,
  type ReaderFeatures,
  ScardCode,
  ScardError,
  type Transport,
  type TransportEvent,
} from '@minidriver/spec';
import { CardTransaction } from './card-transaction.js';
import {
  CM_IOCTL_GET_FEATURE_REQUEST_FUNCTION,
  MAX_ATR_SIZE,
  MAX_RESPONSE_SIZE,
  SCARD_ATTR_CHANNEL_ID,
  SCARD_EJECT_CARD,
  SCARD_LEAVE_CARD,
  SCARD_PROTOCOL_T0,
  SCARD_PROTOCOL_T1,
  SCARD_RESET_CARD,
  SCARD_UNPOWER_CARD,
} from './constants.js';
import { check, scardFailure, succeeded } from './errors.js';
import { type NativeHandle, type PcscLibrary, readerStateAtr, readerStateFor } from './native.js';
import { presenceTokenOf, resourceManagerInstance } from './presence.js';
import { parseFeatureList, type ReaderFeatureMap, toReaderFeatures } from './reader-features.js';

/** The numeric disposition for SCardDisconnect / SCardEndTransaction / SCardReconnect. */
export function dispositionCode(disposition: Disposition): number {
  switch (disposition) {
    case 'leave':
      return SCARD_LEAVE_CARD;
    case 'reset':
      return SCARD_RESET_CARD;
    case 'unpower':
      return SCARD_UNPOWER_CARD;
    case 'eject':
      return SCARD_EJECT_CARD;
    default:
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown disposition ${String(disposition)}`);
  }
}

/** What the card's status (SCardStatus) reports. */
export interface CardStatus {
  readonly readerName: string;
  /** The SCARD_* state bits (pcsclite: SCARD_PRESENT, SCARD_POWERED, SCARD_NEGOTIABLE, SCARD_SPECIFIC ...). */
  readonly state: number;
  readonly protocol: CardProtocol;
  readonly atr: Uint8Array;
}

/** How a failed call reacts to SCARD_W_RESET_CARD after reconnecting. */
type ResetPolicy = 'throw' | 'retry' | 'absorb';

/** @internal What PcscContext hands a new card. */
export interface PcscCardInit {
  readonly library: PcscLibrary;
  readonly handle: NativeHandle;
  /** The SCARDCONTEXT the card was connected in (for SCardGetStatusChange). */
  readonly context?: NativeHandle;
  readonly readerName: string;
  readonly shareMode: number;
  readonly protocolMask: number;
  readonly activeProtocol: number;
  readonly onClosed: (card: PcscCard) => void;
}

/**
 * A connection to the card in one reader (an SCARDHANDLE from SCardConnect). Obtain it with
 * `PcscContext.connect`. Every method throws only ScardError, whose message names the SCard function and
 * the reader.
 */
export class PcscCard implements Transport {
  /** The reader this card sits in. */
  readonly readerName: string;
  private readonly library: PcscLibrary;
  private handle: NativeHandle;
  private readonly shareMode: number;
  private readonly protocolMask: number;
  private currentAtr: Uint8Array = new Uint8Array(0);
  private currentProtocol: CardProtocol;
  private featureMap: ReaderFeatureMap = new Map();
  private readonly listeners = new Set<(event: TransportEvent) => void>();
  private readonly onClosed: (card: PcscCard) => void;
  private readonly contextHandle: NativeHandle | undefined;
  private transactionTail: Promise<void> = Promise.resolve();
  private releaseTransactionSlot: (() => void) | undefined;
  private spareResponseBuffer: Buffer | undefined = Buffer.allocUnsafe(MAX_RESPONSE_SIZE);
  private closed = false;
  private removed = false;

  /** @internal Use `PcscContext.connect`. */
  constructor(init: PcscCardInit) {
    this.library = init.library;
    this.handle = init.handle;
    this.readerName = init.readerName;
    this.shareMode = init.shareMode;
    this.protocolMask = init.protocolMask;
    this.currentProtocol = this.protocolName(init.activeProtocol);
    this.onClosed = init.onClosed;
    this.contextHandle = init.context;
  }

  /**
   * Proof that the card has not left the reader (see `presence.ts`): the reader's card event counter
   * (SCardGetStatusChange), the ATR, the reader's SCARD_ATTR_CHANNEL_ID and pcscd's lifetime. Undefined
   * when one of them is unknown (a reader without a channel id, a platform other than Linux). Never throws.
   */
  async presenceToken(): Promise<string | undefined> {
    if (this.closed || this.contextHandle === undefined) return undefined;
    try {
      const resourceManager = await resourceManagerInstance();
      if (resourceManager === undefined) return undefined;
      const channel = await this.getAttribute(SCARD_ATTR_CHANNEL_ID).catch(() => undefined);
      if (channel === undefined) return undefined;
      const state = readerStateFor(this.readerName, 0, this.library.platform);
      const code = await this.library.getStatusChange(this.contextHandle, 0, [state]);
      if (!succeeded(code)) return undefined;
      return presenceTokenOf({
        resourceManager,
        channel,
        readerName: this.readerName,
        eventState: Number(state.dwEventState),
        atr: readerStateAtr(state),
      });
    } catch {
      return undefined;
    }
  }

  /** @internal Reads the ATR (SCardStatus) and the reader's features (SCardControl) after connecting. */
  async initialize(): Promise<void> {
    await this.refreshStatus();
    this.featureMap = await this.readFeatureMap();
  }

  /** The card's ATR, as SCardStatus last reported it. Returns a copy. */
  get atr(): Uint8Array {
    return this.currentAtr.slice();
  }

  /** The protocol SCardConnect / SCardReconnect negotiated. */
  get protocol(): CardProtocol {
    return this.currentProtocol;
  }

  /** Secure PIN entry features of the reader (from CM_IOCTL_GET_FEATURE_REQUEST via SCardControl). */
  get features(): ReaderFeatures {
    return toReaderFeatures(this.featureMap);
  }

  /** Every PC/SC part 10 feature the reader announced, tag → control code. */
  get readerFeatureMap(): ReaderFeatureMap {
    return new Map(this.featureMap);
  }

  /** True while this process holds a transaction on the card (between begin and end). */
  get inTransaction(): boolean {
    return this.releaseTransactionSlot !== undefined;
  }

  /** True after disconnect/close. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sends one APDU and returns the response (wraps SCardTransmit). After SCARD_W_RESET_CARD the card is
   * reconnected, listeners receive `{ type: 'reset' }`, and the call throws SCARD_W_RESET_CARD (the command
   * was not executed; the caller re-selects and retries). SCARD_W_REMOVED_CARD notifies `{ type: 'removed' }`.
   */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.requireOpen('SCardTransmit');
    if (!(command instanceof Uint8Array) || command.length < 4) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'SCardTransmit: a command APDU has at least 4 bytes');
    }
    const buffer = this.spareResponseBuffer ?? Buffer.allocUnsafe(MAX_RESPONSE_SIZE);
    this.spareResponseBuffer = undefined;
    try {
      const length = [buffer.length];
      await this.invoke('SCardTransmit', 'throw', () =>
        this.library.transmit(this.handle, this.protocolCode(), command, buffer, length),
      );
      return new Uint8Array(buffer.subarray(0, Number(length[0])));
    } finally {
      this.spareResponseBuffer = buffer;
    }
  }

  /**
   * Takes exclusive use of the card (wraps SCardBeginTransaction). Another process's calls wait until
   * {@link endTransaction}; in this process a second beginTransaction waits in a queue. After
   * SCARD_W_RESET_CARD it reconnects, notifies `{ type: 'reset' }` and begins again.
   */
  async beginTransaction(): Promise<void> {
    this.requireOpen('SCardBeginTransaction');
    let release!: () => void;
    const previous = this.transactionTail;
    this.transactionTail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      this.requireOpen('SCardBeginTransaction');
      await this.invoke('SCardBeginTransaction', 'retry', () => this.library.beginTransaction(this.handle));
    } catch (error) {
      release();
      throw error;
    }
    this.releaseTransactionSlot = release;
  }

  /**
   * Ends the transaction (wraps SCardEndTransaction) and lets the next waiting beginTransaction go.
   * Throws SCARD_E_NOT_TRANSACTED when none is active.
   */
  async endTransaction(disposition: Disposition = 'leave'): Promise<void> {
    const release = this.releaseTransactionSlot;
    if (!release) {
      throw new ScardError(
        'SCARD_E_NOT_TRANSACTED',
        `SCardEndTransaction on reader "${this.readerName}": no transaction is active`,
      );
    }
    this.releaseTransactionSlot = undefined;
    try {
      if (this.closed) return;
      const code = dispositionCode(disposition);
      await this.invoke('SCardEndTransaction', 'absorb', () => this.library.endTransaction(this.handle, code));
    } finally {
      release();
    }
  }

  /**
   * Begins a transaction and returns it as an AsyncDisposable (`await using tx = await card.transaction()`).
   * Disposing ends it with SCARD_LEAVE_CARD and never throws; `tx.end(disposition)` reports errors.
   */
  async transaction(): Promise<CardTransaction> {
    await this.beginTransaction();
    return new CardTransaction(this);
  }

  /**
   * Reconnects (wraps SCardReconnect) with the same share mode and protocols; `reset`/`unpower` reset the
   * card first. Returns the new ATR (from SCardStatus).
   */
  async reconnect(initialization: 'leave' | 'reset' | 'unpower' = 'leave'): Promise<Uint8Array> {
    this.requireOpen('SCardReconnect');
    const code = dispositionCode(initialization);
    const activeProtocol = [0];
    check(
      await this.library.reconnect(this.handle, this.shareMode, this.protocolMask, code, activeProtocol),
      'SCardReconnect',
      this.readerName,
    );
    this.currentProtocol = this.protocolName(Number(activeProtocol[0]));
    await this.refreshStatus();
    return this.atr;
  }

  /**
   * Sends a control code to the reader (wraps SCardControl), e.g. FEATURE_VERIFY_PIN_DIRECT for secure PIN
   * entry. `code` is the full control code (as {@link features} reports it, or from `controlCode()`).
   */
  async control(code: number, data: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    this.requireOpen('SCardControl');
    const output = Buffer.alloc(MAX_RESPONSE_SIZE);
    const returned = [0];
    await this.invoke('SCardControl', 'throw', () =>
      this.library.control(this.handle, code >>> 0, data, output, returned),
    );
    return new Uint8Array(output.subarray(0, Number(returned[0])));
  }

  /** Reads a reader attribute (wraps SCardGetAttrib), e.g. SCARD_ATTR_VENDOR_NAME. */
  async getAttribute(id: number): Promise<Uint8Array> {
    this.requireOpen('SCardGetAttrib');
    const length = [0];
    await this.invoke('SCardGetAttrib', 'throw', async () =>
      this.library.getAttribute(this.handle, id >>> 0, null, length),
    );
    const buffer = Buffer.alloc(Math.max(1, Number(length[0])));
    length[0] = buffer.length;
    await this.invoke('SCardGetAttrib', 'throw', async () =>
      this.library.getAttribute(this.handle, id >>> 0, buffer, length),
    );
    return new Uint8Array(buffer.subarray(0, Number(length[0])));
  }

  /** The card's current status (wraps SCardStatus). */
  async status(): Promise<CardStatus> {
    this.requireOpen('SCardStatus');
    return this.refreshStatus();
  }

  /**
   * Registers a listener for resets and removals this card noticed by itself (SCARD_W_RESET_CARD,
   * SCARD_W_REMOVED_CARD). Returns the function that unsubscribes.
   */
  onEvent(listener: (event: TransportEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Disconnects (wraps SCardDisconnect) with the given disposition and reports a failure as ScardError.
   * A transaction still held is ended by PC/SC. Calling it again does nothing.
   */
  async disconnect(disposition: Disposition = 'leave'): Promise<void> {
    if (this.closed) return;
    const code = dispositionCode(disposition);
    this.closed = true;
    this.releaseTransactionSlot?.();
    this.releaseTransactionSlot = undefined;
    this.onClosed(this);
    check(await this.library.disconnect(this.handle, code), 'SCardDisconnect', this.readerName);
  }

  /** Disconnects like {@link disconnect} but never throws (Transport.close). */
  async close(disposition: Disposition = 'leave'): Promise<void> {
    try {
      await this.disconnect(disposition);
    } catch {
      // A card that is already gone cannot be disconnected more; nothing is left to release.
    }
  }

  /** Disconnects with SCARD_LEAVE_CARD; never throws. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close('leave');
  }

  /** Runs a call; on RESET reconnects and notifies; on REMOVED notifies; maps failures to ScardError. */
  private async invoke(functionName: string, onReset: ResetPolicy, call: () => Promise<number>): Promise<void> {
    let code = await call();
    if (succeeded(code)) return;
    if (code === ScardCode.SCARD_W_RESET_CARD) {
      await this.recoverFromReset(functionName);
      if (onReset === 'absorb') return;
      if (onReset === 'retry') {
        code = await call();
        if (succeeded(code)) return;
      }
    }
    if (code === ScardCode.SCARD_W_REMOVED_CARD || code === ScardCode.SCARD_E_NO_SMARTCARD) this.noticeRemoval();
    if (code === ScardCode.SCARD_W_RESET_CARD && onReset === 'throw') {
      throw new ScardError(
        code,
        `${functionName} on reader "${this.readerName}": the card was reset by another connection; reconnected, retry the command`,
      );
    }
    throw scardFailure(code, functionName, this.readerName);
  }

  /** SCardReconnect(LEAVE) acknowledges the reset; then listeners learn the card lost its state. */
  private async recoverFromReset(functionName: string): Promise<void> {
    const activeProtocol = [0];
    const code = await this.library.reconnect(
      this.handle,
      this.shareMode,
      this.protocolMask,
      SCARD_LEAVE_CARD,
      activeProtocol,
    );
    if (!succeeded(code)) {
      if (code === ScardCode.SCARD_W_REMOVED_CARD || code === ScardCode.SCARD_E_NO_SMARTCARD) this.noticeRemoval();
      throw scardFailure(code, `SCardReconnect (after ${functionName} reported SCARD_W_RESET_CARD)`, this.readerName);
    }
    this.currentProtocol = this.protocolName(Number(activeProtocol[0]));
    try {
      await this.refreshStatus();
    } catch {
      // The ATR stays as it was; the next call reports the real problem.
    }
    this.emit({ type: 'reset' });
  }

  private noticeRemoval(): void {
    if (this.removed) return;
    this.removed = true;
    this.emit({ type: 'removed' });
  }

  private emit(event: TransportEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break the transport.
      }
    }
  }

  private async refreshStatus(): Promise<CardStatus> {
    const readerLength = [0];
    const state = [0];
    const protocol = [0];
    const atr = Buffer.alloc(64);
    const atrLength = [atr.length];
    check(
      await this.library.status(this.handle, null, readerLength, state, protocol, atr, atrLength),
      'SCardStatus',
      this.readerName,
    );
    const atrBytes = new Uint8Array(atr.subarray(0, Math.min(Number(atrLength[0]), MAX_ATR_SIZE)));
    this.currentAtr = atrBytes;
    if (Number(protocol[0]) !== 0) this.currentProtocol = this.protocolName(Number(protocol[0]));
    return {
      readerName: this.readerName,
      state: Number(state[0]),
      protocol: this.currentProtocol,
      atr: atrBytes.slice(),
    };
  }

  private async readFeatureMap(): Promise<ReaderFeatureMap> {
    const code = this.library.platform.controlCode(CM_IOCTL_GET_FEATURE_REQUEST_FUNCTION);
    try {
      return parseFeatureList(await this.control(code));
    } catch (error) {
      // Readers without PC/SC part 10 support answer with an error: they have no features to offer.
      if (ScardError.isInstance(error)) return new Map();
      throw error;
    }
  }

  private protocolCode(): number {
    if (this.currentProtocol === 'T0') return SCARD_PROTOCOL_T0;
    if (this.currentProtocol === 'T1') return SCARD_PROTOCOL_T1;
    return this.library.platform.protocolRaw;
  }

  private protocolName(code: number): CardProtocol {
    if (code === SCARD_PROTOCOL_T0) return 'T0';
    if (code === SCARD_PROTOCOL_T1) return 'T1';
    return 'raw';
  }

  private requireOpen(functionName: string): void {
    if (this.closed) {
      throw new ScardError(
        'SCARD_E_INVALID_HANDLE',
        `${functionName} on reader "${this.readerName}": the card was disconnected`,
      );
    }
  }
}
