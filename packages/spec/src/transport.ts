/**
 * The Transport: the one door between a plugin and a card (the spec's "SCRM"). Implemented by
 * @minidriver/pcsc (a real reader through PC/SC) and @minidriver/sim (an in-process simulated card).
 *
 * @packageDocumentation
 */

/** What happens to the card when a transaction or connection ends (SCARD_LEAVE_CARD ...). */
export type Disposition = 'leave' | 'reset' | 'unpower' | 'eject';

/** The transmission protocol in use. `raw` is for readers without a card protocol. */
export type CardProtocol = 'T0' | 'T1' | 'raw';

/** Why a transport reconnected; a session drops authentication state and cache on `reset`/`removed`. */
export interface TransportEvent {
  readonly type: 'reset' | 'removed' | 'reconnected';
}

/**
 * A connection to one card. Every call but `close` may throw only `ScardError`, with the PC/SC code
 * (SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD, SCARD_E_TIMEOUT, ...).
 */
export interface Transport {
  /** The card's answer to reset, as received. */
  readonly atr: Uint8Array;
  /** The protocol negotiated for this connection. */
  readonly protocol: CardProtocol;
  /** The reader's name, or a descriptive name for a simulated card. */
  readonly readerName: string;
  /** Sends one command APDU and returns the whole response APDU (data and SW1 SW2). */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /**
   * Takes exclusive use of the card until `endTransaction` (SCardBeginTransaction). A second
   * beginTransaction, in this process or another, waits until the first ends.
   */
  beginTransaction(): Promise<void>;
  /** Ends the transaction (SCardEndTransaction) with the given disposition. */
  endTransaction(disposition?: Disposition): Promise<void>;
  /** Reconnects (SCardReconnect); `reset` resets the card first. Returns the (new) ATR. */
  reconnect(initialization?: 'leave' | 'reset' | 'unpower'): Promise<Uint8Array>;
  /**
   * Registers a listener for reset/removal that the transport noticed on its own (for instance
   * SCARD_W_RESET_CARD answered by PC/SC, after which it reconnected). Returns an unsubscribe function.
   */
  onEvent?(listener: (event: TransportEvent) => void): () => void;
  /** Reader features such as PIN pad support, when the transport knows them. */
  readonly features?: ReaderFeatures;
  /**
   * Sends a control code to the reader (SCardControl) and returns the reader's answer. Used for PC/SC
   * part 10 secure PIN entry: `code` is a control code from {@link features} (e.g. `verifyPinDirect`),
   * `data` the feature's input (e.g. a PIN_VERIFY_STRUCTURE); for FEATURE_VERIFY_PIN_DIRECT the answer is
   * the card's status word (or the reader's 64 00 timeout / 64 01 cancelled). Optional: transports without
   * a reader to talk to leave it out.
   */
  control?(code: number, data: Uint8Array): Promise<Uint8Array>;
  /**
   * Proof that the card has not left the reader: a token that stays the same exactly as long as the same
   * card stays in the same reader, and changes when a card is removed or inserted or when the reader or
   * the resource manager starts anew (PC/SC: the reader's card event counter from SCardGetStatusChange,
   * with what identifies the reader and the resource manager). Undefined when the transport cannot prove
   * that; then nothing may be concluded. Ask inside a transaction: a card swapped afterwards makes every
   * later exchange on this connection fail. Optional: transports that cannot tell leave it out.
   */
  presenceToken?(): Promise<string | undefined>;
  /** Disconnects; never throws. */
  close(disposition?: Disposition): Promise<void>;
}

/** Secure PIN entry capabilities of a reader (PC/SC part 10 features). */
export interface ReaderFeatures {
  /** FEATURE_VERIFY_PIN_DIRECT control code, when the reader has a PIN pad that can verify. */
  readonly verifyPinDirect?: number;
  /** FEATURE_MODIFY_PIN_DIRECT control code, when the reader can change a PIN on its pad. */
  readonly modifyPinDirect?: number;
}

/** One APDU exchange as seen by a trace hook. Secret command data is already redacted. */
export interface ApduTraceEntry {
  /** The command as sent; the data field of a secret-bearing command (VERIFY, a new key...) is zeroed. */
  readonly command: Uint8Array;
  /** True when the command's data field was replaced because it carried a secret. */
  readonly redacted: boolean;
  /** The response APDU, or undefined when transmit failed; its data is zeroed when it carried a secret. */
  readonly response?: Uint8Array;
  /** True when the response's data was zeroed because it carried a secret (decrypted data, a challenge). */
  readonly responseRedacted?: boolean;
  /** The error transmit threw, if any. */
  readonly error?: unknown;
  /** Milliseconds the exchange took. */
  readonly durationMs: number;
}

/** A command APDU whose data or response carries a secret, matched by INS (and P1, P2 when given). */
export interface SecretApdu {
  readonly ins: number;
  readonly p1?: number;
  readonly p2?: number;
  /** The command data is secret (a PIN, a key): redacted in traces, the command buffer wiped after sending. */
  readonly data?: boolean;
  /** The response data is secret (plaintext, a shared secret): redacted in traces, wiped after use. */
  readonly response?: boolean;
}

/** A function that sees every APDU exchanged through a traced transport. */
export type ApduTraceHook = (entry: ApduTraceEntry) => void;

/**
 * A Transport that behaves exactly like `transport` (ATR, protocol, transactions, events, reader features
 * and control, close) but sends every APDU through `transmit`, which receives the inner transport's
 * transmit to call. The one way to decorate a transport: tracing, recording and counting wrappers are built
 * on it.
 */
export function interceptTransmit(
  transport: Transport,
  transmit: (command: Uint8Array, send: (command: Uint8Array) => Promise<Uint8Array>) => Promise<Uint8Array>,
): Transport {
  const send = (command: Uint8Array) => transport.transmit(command);
  const decorated: Transport = {
    get atr() {
      return transport.atr;
    },
    get protocol() {
      return transport.protocol;
    },
    get readerName() {
      return transport.readerName;
    },
    get features() {
      return transport.features;
    },
    transmit: (command) => transmit(command, send),
    beginTransaction: () => transport.beginTransaction(),
    endTransaction: (disposition) => transport.endTransaction(disposition),
    reconnect: (initialization) => transport.reconnect(initialization),
    close: (disposition) => transport.close(disposition),
  };
  if (transport.onEvent !== undefined) decorated.onEvent = transport.onEvent.bind(transport);
  // Reader control codes are not APDUs: they go straight to the inner transport.
  if (transport.control !== undefined) decorated.control = transport.control.bind(transport);
  if (transport.presenceToken !== undefined) decorated.presenceToken = transport.presenceToken.bind(transport);
  return decorated;
}
