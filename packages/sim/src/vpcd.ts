/**
 * The vpcd bridge: puts a SimulatedCard into pcscd through the vsmartcard virtual reader driver
 * (vpcd), so every PC/SC application (OpenSC, yubico-piv-tool, gpg, @minidriver/pcsc) can use it.
 *
 * Protocol (vsmartcard vpcd): pcscd listens on TCP (127.0.0.1:35963 for "Virtual PCD 00 00", 35964 for
 * "... 00 01"); the card is the client. Every message is a 2-byte big-endian length and a payload. A
 * 1-byte payload is a control (0 power off, 1 power on, 2 reset, 4 "send the ATR"); anything longer is a
 * command APDU, answered with the response APDU. Connecting inserts the card; disconnecting removes it.
 */
import { Socket } from 'node:net';
import { ScardError } from '@minidriver/spec';
import { processOnCard } from './card-process.js';
import { corruptResponse, delay, type FaultInjector, type FaultPlan, toFaultInjector } from './faults.js';
import type { ApduRecorder } from './recorder.js';
import type { SimulatedCard } from './simulated-card.js';

/** The vpcd control bytes. */
const VPCD_POWER_OFF = 0;
const VPCD_POWER_ON = 1;
const VPCD_RESET = 2;
const VPCD_GET_ATR = 4;

/** Port of the first vpcd reader ("Virtual PCD 00 00"); reader n listens on 35963 + n. */
export const VPCD_DEFAULT_PORT = 35963;

/** Options of {@link serveVpcd}. */
export interface VpcdOptions {
  /** Where pcscd's vpcd listens. Default 127.0.0.1. */
  readonly host?: string;
  /** The reader's port. Default 35963 ("Virtual PCD 00 00"); 35964 is "Virtual PCD 00 01". */
  readonly port?: number;
  /** Connect again when the connection drops or cannot be made (pcscd restarting). Default true. */
  readonly reconnect?: boolean;
  /** Wait between connection attempts. Default 500 ms. */
  readonly reconnectDelayMs?: number;
  /**
   * Give up, instead of retrying, when the very first TCP connection is refused, fails, or is not
   * established within this many milliseconds: `connected` then rejects with SCARD_E_NO_SERVICE
   * ("vpcd at host:port is unreachable (ECONNREFUSED)") and the bridge stops. Only the TCP connect is
   * bounded: a connection vpcd accepts but queues (another card in the reader) is kept. Later drops
   * still follow `reconnect`. Default: undefined (the first attempt is retried like any other).
   */
  readonly firstConnectTimeoutMs?: number;
  /** Called after each APDU exchange with copies of the command and the response sent. */
  readonly onApdu?: (command: Uint8Array, response: Uint8Array) => void;
  /** Counts every APDU exchange. */
  readonly recorder?: ApduRecorder;
  /** Faults to inject; removal drops the socket (pcscd sees the card removed). */
  readonly faults?: FaultPlan | FaultInjector;
}

/** A running vpcd bridge. */
export interface VpcdServer {
  /**
   * Resolves when pcscd first accepts the card: its first message (presence poll) arrived. A TCP connect
   * alone is not enough, because vpcd serves one card per reader and queues other connections.
   * Rejects when closed before that, or when `reconnect` is off and the connection fails or drops first.
   */
  readonly connected: Promise<void>;
  /** True while pcscd has the card (connection accepted and open): the card is "in the reader". */
  isConnected(): boolean;
  /** Removes the card: disconnects, and stays out until `insert()`. Resolves once the socket is closed. */
  eject(): Promise<void>;
  /** Inserts the card again: connects, and resolves once pcscd has accepted it. */
  insert(): Promise<void>;
  /** The fault injector in use (re-arm it with `faults.setPlan`). */
  readonly faults: FaultInjector;
  /** Stops for good (no reconnect). Resolves when the socket is closed. Never rejects. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(error: ScardError): void;
}

/** Splits a TCP byte stream into vpcd messages (2-byte big-endian length + payload). */
export class VpcdFrameReader {
  #buffer: Uint8Array = new Uint8Array(0);

  /** Adds received bytes and returns every message now complete (copies), in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer, 0);
    joined.set(chunk, this.#buffer.length);
    const messages: Uint8Array[] = [];
    let offset = 0;
    while (joined.length - offset >= 2) {
      const length = ((joined[offset] ?? 0) << 8) | (joined[offset + 1] ?? 0);
      if (joined.length - offset - 2 < length) break;
      messages.push(joined.slice(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
    this.#buffer = joined.slice(offset);
    return messages;
  }

  /** Forgets a partial message (after a disconnect). */
  clear(): void {
    this.#buffer = new Uint8Array(0);
  }
}

/** Encodes one vpcd message. Throws SCARD_E_INVALID_PARAMETER above 65535 bytes. */
export function encodeVpcdMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `vpcd message of ${payload.length} bytes exceeds 65535`);
  }
  const message = new Uint8Array(payload.length + 2);
  message[0] = payload.length >> 8;
  message[1] = payload.length & 0xff;
  message.set(payload, 2);
  return message;
}

class VpcdBridge implements VpcdServer {
  readonly connected: Promise<void>;
  readonly faults: FaultInjector;
  readonly #card: SimulatedCard;
  readonly #host: string;
  readonly #port: number;
  readonly #reconnect: boolean;
  readonly #reconnectDelayMs: number;
  readonly #firstConnectTimeoutMs: number | undefined;
  /** True until the first connection attempt has connected or failed. */
  #firstAttempt = true;
  readonly #onApdu: VpcdOptions['onApdu'];
  readonly #recorder: ApduRecorder | undefined;
  #socket: Socket | undefined;
  #socketOpen = false;
  /** True once pcscd has sent the first message on the current socket. */
  #accepted = false;
  #inserted = true;
  #closed = false;
  #everConnected = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #firstConnection!: Waiter;
  #insertWaiters: Waiter[] = [];
  #closeWaiters: (() => void)[] = [];
  /** Messages are handled one after another, even when several arrive in one chunk. */
  #queue: Promise<void> = Promise.resolve();

  constructor(card: SimulatedCard, options: VpcdOptions) {
    this.#card = card;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? VPCD_DEFAULT_PORT;
    this.#reconnect = options.reconnect ?? true;
    this.#reconnectDelayMs = Math.max(0, options.reconnectDelayMs ?? 500);
    this.#firstConnectTimeoutMs =
      options.firstConnectTimeoutMs === undefined ? undefined : Math.max(0, options.firstConnectTimeoutMs);
    this.#onApdu = options.onApdu;
    this.#recorder = options.recorder;
    this.faults = toFaultInjector(options.faults);
    this.connected = new Promise<void>((resolve, reject) => {
      this.#firstConnection = { resolve, reject };
    });
    // Callers may never await `connected`; a rejection must not become an unhandled rejection.
    this.connected.catch(() => undefined);
    this.#connect();
  }

  isConnected(): boolean {
    return this.#accepted;
  }

  eject(): Promise<void> {
    this.#inserted = false;
    this.#cancelReconnect();
    this.#rejectInsertWaiters(new ScardError('SCARD_E_CANCELLED', 'the simulated card was ejected'));
    return this.#dropSocket();
  }

  insert(): Promise<void> {
    if (this.#closed) return Promise.reject(new ScardError('SCARD_E_CANCELLED', 'the vpcd bridge is closed'));
    this.#inserted = true;
    if (this.#accepted) return Promise.resolve();
    const inserted = new Promise<void>((resolve, reject) => this.#insertWaiters.push({ resolve, reject }));
    if (!this.#socket && !this.#reconnectTimer) this.#connect();
    return inserted;
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#inserted = false;
    this.#cancelReconnect();
    const cancelled = new ScardError('SCARD_E_CANCELLED', 'the vpcd bridge was closed');
    if (!this.#everConnected) this.#firstConnection.reject(cancelled);
    this.#rejectInsertWaiters(cancelled);
    return this.#dropSocket();
  }

  #connect(): void {
    if (this.#closed || !this.#inserted || this.#socket) return;
    const socket = new Socket();
    const frames = new VpcdFrameReader();
    this.#socket = socket;
    socket.setNoDelay(true);
    const bounded = this.#firstAttempt && this.#firstConnectTimeoutMs !== undefined;
    let failure = '';
    const connectTimer = bounded
      ? setTimeout(() => {
          failure = `no answer within ${this.#firstConnectTimeoutMs} ms`;
          socket.destroy();
        }, this.#firstConnectTimeoutMs)
      : undefined;
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      this.#firstAttempt = false;
      this.#socketOpen = true;
    });
    socket.on('data', (chunk: Buffer) => {
      // The TCP connect succeeds as soon as the kernel queues us (even while another card holds the
      // reader); pcscd has really accepted the card when it first talks to it (its presence poll).
      if (!this.#accepted && socket === this.#socket) {
        this.#accepted = true;
        this.#everConnected = true;
        this.#firstConnection.resolve();
        for (const waiter of this.#insertWaiters.splice(0)) waiter.resolve();
      }
      for (const message of frames.push(chunk)) {
        this.#queue = this.#queue.then(() => this.#handleMessage(socket, message));
      }
    });
    // 'error' is always followed by 'close'; the reconnect logic lives there.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ||= error.code ?? error.message;
    });
    socket.on('close', () => {
      clearTimeout(connectTimer);
      const wasOpen = this.#socketOpen;
      const firstAttemptFailed = bounded && this.#firstAttempt && !wasOpen;
      this.#firstAttempt = false;
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#socketOpen = false;
        this.#accepted = false;
      }
      frames.clear();
      // The card left the reader (or never got in): it has no power any more.
      if (wasOpen) this.#powerOffQuietly();
      for (const waiter of this.#closeWaiters.splice(0)) waiter();
      if (firstAttemptFailed && !this.#closed && this.#inserted) {
        this.#giveUp(
          new ScardError(
            'SCARD_E_NO_SERVICE',
            `vpcd at ${this.#host}:${this.#port} is unreachable (${failure || 'connection closed'}): is pcscd running with the vpcd driver (vsmartcard-vpcd), and is this its port?`,
          ),
        );
        return;
      }
      this.#afterDisconnect(wasOpen);
    });
    socket.connect(this.#port, this.#host);
  }

  #afterDisconnect(wasOpen: boolean): void {
    if (this.#closed || !this.#inserted) return;
    if (!this.#reconnect) {
      const failure = new ScardError(
        'SCARD_E_NO_SERVICE',
        `vpcd at ${this.#host}:${this.#port} ${wasOpen ? 'closed the connection' : 'refused the connection'}`,
      );
      this.#giveUp(failure);
      return;
    }
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, this.#reconnectDelayMs);
  }

  async #handleMessage(socket: Socket, message: Uint8Array): Promise<void> {
    if (socket !== this.#socket || !this.#socketOpen) return;
    if (message.length === 1) {
      this.#handleControl(socket, message[0] ?? -1);
      return;
    }
    if (message.length === 0) return;
    await this.#handleApdu(socket, message);
  }

  /** Stops trying to connect: `connected` (if still pending) and `insert()` waiters reject with `failure`. */
  #giveUp(failure: ScardError): void {
    if (!this.#everConnected) this.#firstConnection.reject(failure);
    this.#rejectInsertWaiters(failure);
    this.#inserted = false;
  }

  #handleControl(socket: Socket, control: number): void {
    try {
      if (control === VPCD_POWER_OFF) this.#card.powerOff();
      else if (control === VPCD_POWER_ON) this.#card.powerOn();
      else if (control === VPCD_RESET) this.#card.reset();
      else if (control === VPCD_GET_ATR) this.#send(socket, this.#card.atr);
      // Other control bytes are not part of the protocol version pcscd speaks; ignore them.
    } catch {
      // A simulator failing to power is a broken card, not a reason to take the bridge down.
    }
  }

  async #handleApdu(socket: Socket, command: Uint8Array): Promise<void> {
    const fault = this.faults.nextApdu();
    if (fault.removeBefore) {
      await this.eject();
      return;
    }
    let response = await processOnCard(this.#card, command);
    if (fault.removeAfter) {
      await this.eject();
      return;
    }
    if (fault.unpowerAfter) {
      // Power cut: pcscd sees the card leave (dropping the socket powers the card off) and it comes
      // back on the next reconnect, with its volatile state gone.
      await this.#dropSocket();
      return;
    }
    if (fault.corruptResponse) response = corruptResponse(response);
    await delay(fault.delayMs);
    this.#recorder?.record(command, response);
    this.#onApdu?.(command.slice(), response.slice());
    this.#send(socket, response);
  }

  #send(socket: Socket, payload: Uint8Array): void {
    if (socket !== this.#socket || !this.#socketOpen || socket.destroyed) return;
    try {
      socket.write(encodeVpcdMessage(payload));
    } catch {
      // Oversized response or a socket that died meanwhile; pcscd will see a failed transmit.
      socket.destroy();
    }
  }

  #powerOffQuietly(): void {
    try {
      this.#card.powerOff();
    } catch {
      // Ignored: see #handleControl.
    }
  }

  #dropSocket(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    socket.destroy();
    return closed;
  }

  #cancelReconnect(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  #rejectInsertWaiters(error: ScardError): void {
    for (const waiter of this.#insertWaiters.splice(0)) waiter.reject(error);
  }
}

/**
 * Connects `card` to pcscd's vpcd reader: pcscd then shows the card in "Virtual PCD 00 00" (port 35963)
 * or "Virtual PCD 00 01" (35964). Reconnects when pcscd restarts unless `reconnect: false`. Simulator
 * errors are answered with SW 6F00; the bridge never throws into the event loop.
 *
 * @example
 * const server = serveVpcd(new PivSimulator(), { port: 35964 });
 * await server.connected;
 * // ... opensc-tool -r "Virtual PCD 00 01" -a
 * await server.close();
 */
export function serveVpcd(card: SimulatedCard, options: VpcdOptions = {}): VpcdServer {
  return new VpcdBridge(card, options);
}
