/**
 * Wraps a reader of the `pcsclite` npm package as a Transport, for applications that already use
 * it. `pcsclite` has no SCardBeginTransaction, so this adapter cannot hold a real transaction: it connects
 * with SCARD_SHARE_EXCLUSIVE instead (no other process can use the card while connected) and only queues
 * transactions inside this process.
 */
import {
  type CardProtocol,
  type Disposition,
  type ReaderFeatures,
  ScardError,
  type Transport,
  type TransportEvent,
} from '@minidriver/spec';
import {
  CM_IOCTL_GET_FEATURE_REQUEST_FUNCTION,
  MAX_RESPONSE_SIZE,
  SCARD_PROTOCOL_T0,
  SCARD_PROTOCOL_T1,
} from './constants.js';
import { dispositionCode } from './pcsc-card.js';
import { parseFeatureList, toReaderFeatures } from './reader-features.js';

type NodeCallback<T> = (error: unknown, value: T) => void;

/** The part of a `pcsclite` CardReader this adapter uses (so `pcsclite` stays an optional peer). */
export interface PcscliteReader {
  readonly name: string;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  SCARD_CTL_CODE(code: number): number;
  get_status(callback: (error: unknown, state: number, atr?: Buffer) => void): void;
  connect(options: { share_mode?: number; protocol?: number }, callback: NodeCallback<number>): void;
  disconnect(disposition: number, callback: (error: unknown) => void): void;
  transmit(data: Buffer, responseLength: number, protocol: number, callback: NodeCallback<Buffer>): void;
  control(data: Buffer, code: number, responseLength: number, callback: NodeCallback<Buffer>): void;
}

/** Turns a pcsclite error (an Error whose message ends in "(0x8010000b)" or similar) into a ScardError. */
function toScardError(error: unknown, functionName: string, readerName: string): ScardError {
  if (ScardError.isInstance(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const match = /0x([0-9a-f]{8})/i.exec(text);
  if (match?.[1])
    return new ScardError(
      Number.parseInt(match[1], 16),
      `${functionName} on reader "${readerName}" failed (pcsclite: ${text})`,
    );
  return new ScardError('SCARD_E_UNEXPECTED', `${functionName} on reader "${readerName}" failed (pcsclite: ${text})`, {
    cause: error,
  });
}

function promisify<T>(functionName: string, readerName: string, run: (callback: NodeCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, value) => (error ? reject(toScardError(error, functionName, readerName)) : resolve(value)));
  });
}

/**
 * A `pcsclite` reader as a Transport. No real transactions (see the module note): beginTransaction only
 * orders callers inside this process, and the exclusive connection keeps other processes out.
 */
export class PcscliteTransport implements Transport {
  readonly readerName: string;
  private currentAtr: Uint8Array;
  private currentProtocol: number;
  private readerFeatures: ReaderFeatures = {};
  private readonly listeners = new Set<(event: TransportEvent) => void>();
  private transactionTail: Promise<void> = Promise.resolve();
  private releaseTransactionSlot: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly reader: PcscliteReader,
    atr: Uint8Array,
    protocol: number,
  ) {
    this.readerName = reader.name;
    this.currentAtr = atr;
    this.currentProtocol = protocol;
  }

  /** Connects exclusively (pcsclite `reader.connect` → SCardConnect) and reads the ATR and reader features. */
  static async connect(reader: PcscliteReader): Promise<PcscliteTransport> {
    const atr = await new Promise<Uint8Array>((resolve, reject) =>
      reader.get_status((error, _state, atr) =>
        error ? reject(toScardError(error, 'SCardStatus', reader.name)) : resolve(new Uint8Array(atr ?? [])),
      ),
    );
    const protocol = await promisify<number>('SCardConnect', reader.name, (callback) =>
      reader.connect(
        { share_mode: reader.SCARD_SHARE_EXCLUSIVE, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 },
        callback,
      ),
    );
    const transport = new PcscliteTransport(reader, atr, protocol);
    try {
      const features = await transport.control(reader.SCARD_CTL_CODE(CM_IOCTL_GET_FEATURE_REQUEST_FUNCTION));
      transport.readerFeatures = toReaderFeatures(parseFeatureList(features));
    } catch {
      // No PC/SC part 10 support: no PIN pad features.
    }
    return transport;
  }

  get atr(): Uint8Array {
    return this.currentAtr.slice();
  }

  get protocol(): CardProtocol {
    if (this.currentProtocol === SCARD_PROTOCOL_T0) return 'T0';
    if (this.currentProtocol === SCARD_PROTOCOL_T1) return 'T1';
    return 'raw';
  }

  get features(): ReaderFeatures {
    return this.readerFeatures;
  }

  /** Sends one APDU (pcsclite `reader.transmit` → SCardTransmit). */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.requireOpen('SCardTransmit');
    const response = await promisify<Buffer>('SCardTransmit', this.readerName, (callback) =>
      this.reader.transmit(Buffer.from(command), MAX_RESPONSE_SIZE, this.currentProtocol, callback),
    );
    return new Uint8Array(response);
  }

  /** Sends a reader control code (pcsclite `reader.control` → SCardControl). */
  async control(code: number, data: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    this.requireOpen('SCardControl');
    const response = await promisify<Buffer>('SCardControl', this.readerName, (callback) =>
      this.reader.control(Buffer.from(data), code, MAX_RESPONSE_SIZE, callback),
    );
    return new Uint8Array(response);
  }

  /** Waits for this process's earlier transaction to end. Not SCardBeginTransaction (pcsclite lacks it). */
  async beginTransaction(): Promise<void> {
    this.requireOpen('beginTransaction');
    let release!: () => void;
    const previous = this.transactionTail;
    this.transactionTail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.releaseTransactionSlot = release;
  }

  /** Lets the next in-process transaction go. A disposition other than `leave` is not supported. */
  async endTransaction(disposition: Disposition = 'leave'): Promise<void> {
    const release = this.releaseTransactionSlot;
    if (!release)
      throw new ScardError(
        'SCARD_E_NOT_TRANSACTED',
        `endTransaction on reader "${this.readerName}": no transaction is active`,
      );
    this.releaseTransactionSlot = undefined;
    release();
    if (disposition !== 'leave') {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        `endTransaction with disposition "${disposition}" through the pcsclite package is not supported`,
      );
    }
  }

  /**
   * Reconnects by disconnecting (with the given disposition) and connecting again exclusively; pcsclite has
   * no SCardReconnect. Returns the ATR.
   */
  async reconnect(initialization: 'leave' | 'reset' | 'unpower' = 'leave'): Promise<Uint8Array> {
    this.requireOpen('SCardReconnect');
    const code = dispositionCode(initialization);
    await promisify<void>('SCardDisconnect', this.readerName, (callback) =>
      this.reader.disconnect(code, (error) => callback(error, undefined)),
    );
    const fresh = await PcscliteTransport.connect(this.reader);
    this.currentAtr = fresh.currentAtr;
    this.currentProtocol = fresh.currentProtocol;
    if (initialization !== 'leave') this.emit({ type: 'reconnected' });
    return this.atr;
  }

  onEvent(listener: (event: TransportEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Disconnects (pcsclite `reader.disconnect` → SCardDisconnect); never throws. */
  async close(disposition: Disposition = 'leave'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseTransactionSlot?.();
    try {
      const code = dispositionCode(disposition);
      await promisify<void>('SCardDisconnect', this.readerName, (callback) =>
        this.reader.disconnect(code, (error) => callback(error, undefined)),
      );
    } catch {
      // Already disconnected.
    }
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

  private requireOpen(functionName: string): void {
    if (this.closed)
      throw new ScardError('SCARD_E_INVALID_HANDLE', `${functionName} on reader "${this.readerName}": disconnected`);
  }
}

/**
 * Wraps one reader of the `pcsclite` npm package as a Transport (connects exclusively; see
 * {@link PcscliteTransport}).
 */
export function wrapPcscliteReader(reader: PcscliteReader): Promise<PcscliteTransport> {
  return PcscliteTransport.connect(reader);
}
