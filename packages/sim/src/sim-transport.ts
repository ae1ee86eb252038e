/**
 * SimTransport: the in-memory Transport over a SimulatedCard, with the PC/SC behaviour plugins
 * must cope with — transactions that exclude other transports on the same card, SCARD_W_RESET_CARD after
 * someone else reset the card, SCARD_W_REMOVED_CARD after a removal — and declarative fault injection.
 */
import {
  type CardProtocol,
  type Disposition,
  type ReaderFeatures,
  ScardError,
  type Transport,
  type TransportEvent,
  wipe,
} from '@minidriver/spec';
import { processOnCard } from './card-process.js';
import { type CardSlot, slotOf } from './card-slot.js';
import { corruptResponse, delay, type FaultInjector, type FaultPlan, toFaultInjector } from './faults.js';
import {
  buildModifyApdu,
  buildVerifyApdu,
  encodeSimFeatureList,
  type PinPad,
  SIM_CONTROL_GET_FEATURE_REQUEST,
  SIM_CONTROL_MODIFY_PIN_DIRECT,
  SIM_CONTROL_VERIFY_PIN_DIRECT,
  statusWordBytes,
} from './pin-pad-reader.js';
import type { ApduRecorder } from './recorder.js';
import type { SimulatedCard } from './simulated-card.js';

export type { PinPad, PinPadPrompt } from './pin-pad-reader.js';
export {
  SIM_CONTROL_GET_FEATURE_REQUEST,
  SIM_CONTROL_MODIFY_PIN_DIRECT,
  SIM_CONTROL_VERIFY_PIN_DIRECT,
} from './pin-pad-reader.js';

/** Options of {@link SimTransport}. */
export interface SimTransportOptions {
  /** The reader name to report. Default `Simulated <card name>`. */
  readonly readerName?: string;
  /** The protocol to report. Default T1. */
  readonly protocol?: 'T0' | 'T1';
  /** Faults to inject into this transport's exchanges. */
  readonly faults?: FaultPlan | FaultInjector;
  /** Counts every successful exchange. */
  readonly recorder?: ApduRecorder;
  /**
   * Makes the reader a PIN-pad reader: `features` announces FEATURE_VERIFY_PIN_DIRECT and
   * FEATURE_MODIFY_PIN_DIRECT, and `control` asks this keypad for the PIN (undefined = Cancel, which the
   * reader answers 64 01).
   */
  readonly pinPad?: PinPad;
}

/**
 * A Transport to a SimulatedCard in this process. Every SimTransport created on the same card object
 * shares one "reader slot": their transactions exclude each other (FIFO), exchanges never interleave,
 * and a reset or removal by one is seen by the others as PC/SC reports it.
 *
 * The card is powered on when the first transport on it is created.
 */
export class SimTransport implements Transport {
  readonly protocol: CardProtocol;
  readonly readerName: string;
  /** The fault injector of this transport (re-arm with `faults.setPlan`). */
  readonly faults: FaultInjector;
  readonly #slot: CardSlot;
  readonly #recorder: ApduRecorder | undefined;
  readonly #pinPad: PinPad | undefined;
  readonly #listeners = new Set<(event: TransportEvent) => void>();
  /** The slot generation this transport last saw; a difference means "someone reset the card". */
  #seenGeneration: number;
  #closed = false;
  #inTransaction = false;
  /** True once this transport reported the current removal (so `removed` fires once per removal). */
  #removalReported = false;

  constructor(card: SimulatedCard, options: SimTransportOptions = {}) {
    try {
      this.#slot = slotOf(card);
    } catch (error) {
      throw ScardError.from(error, 'powering on the simulated card');
    }
    this.#seenGeneration = this.#slot.generation;
    this.protocol = options.protocol ?? 'T1';
    this.readerName = options.readerName ?? `Simulated ${card.name}`;
    this.faults = toFaultInjector(options.faults);
    this.#recorder = options.recorder;
    this.#pinPad = options.pinPad;
  }

  /** The PIN-pad features (PC/SC part 10 control codes) when the reader has a PIN pad, else undefined. */
  get features(): ReaderFeatures | undefined {
    if (this.#pinPad === undefined) return undefined;
    return { verifyPinDirect: SIM_CONTROL_VERIFY_PIN_DIRECT, modifyPinDirect: SIM_CONTROL_MODIFY_PIN_DIRECT };
  }

  /** The card's ATR (a copy). */
  get atr(): Uint8Array {
    return this.#slot.card.atr.slice();
  }

  /** The simulated card behind this transport. */
  get card(): SimulatedCard {
    return this.#slot.card;
  }

  /** True while the card is in the reader (false after a removal fault, until `reinsert`). */
  get cardPresent(): boolean {
    return this.#slot.present;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.#requireOpen();
    if (!(command instanceof Uint8Array) || command.length < 4) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a command APDU has at least 4 bytes');
    }
    return this.#withLock(() => this.#exchange(command));
  }

  /**
   * SCardControl on the simulated reader: CM_IOCTL_GET_FEATURE_REQUEST, and with a PIN pad
   * FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT (input: PIN_VERIFY_STRUCTURE /
   * PIN_MODIFY_STRUCTURE; answer: the card's status word, or the reader's 64 0x). Other codes:
   * SCARD_E_UNSUPPORTED_FEATURE, as pcsc-lite answers.
   */
  async control(code: number, data: Uint8Array): Promise<Uint8Array> {
    this.#requireOpen();
    const pinPad = this.#pinPad;
    if (code === SIM_CONTROL_GET_FEATURE_REQUEST) {
      return pinPad === undefined ? new Uint8Array(0) : encodeSimFeatureList();
    }
    const isVerify = code === SIM_CONTROL_VERIFY_PIN_DIRECT;
    if (pinPad === undefined || (!isVerify && code !== SIM_CONTROL_MODIFY_PIN_DIRECT)) {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `reader control code 0x${(code >>> 0).toString(16)}`);
    }
    if (!(data instanceof Uint8Array)) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'control data must be bytes');
    let built: Uint8Array | number;
    try {
      built = isVerify ? await buildVerifyApdu(pinPad, data) : await buildModifyApdu(pinPad, data);
    } catch (error) {
      throw ScardError.from(error, 'simulated PIN pad');
    }
    if (typeof built === 'number') return statusWordBytes(built);
    const command = built;
    try {
      // The reader sends the APDU it built; the card's SW1 SW2 are the answer (data, if any, is dropped).
      const response = await this.#withLock(() => this.#exchange(command));
      return response.slice(response.length - 2);
    } finally {
      wipe(command);
    }
  }

  /** One APDU exchange with the card, holding the slot: faults, recorder, reset/removal checks. */
  async #exchange(command: Uint8Array): Promise<Uint8Array> {
    this.#requireCardUnchanged();
    const fault = this.faults.nextApdu();
    if (fault.removeBefore) this.#removeCard();
    let response = await processOnCard(this.#slot.card, command);
    if (fault.removeAfter) this.#removeCard();
    if (fault.unpowerAfter) {
      this.#slot.powerCycleCard();
      this.#requireCardUnchanged();
    }
    if (fault.corruptResponse) response = corruptResponse(response);
    await delay(fault.delayMs);
    this.#recorder?.record(command, response);
    return response;
  }

  async beginTransaction(): Promise<void> {
    this.#requireOpen();
    if (this.#inTransaction) {
      throw new ScardError('SCARD_E_SHARING_VIOLATION', 'this transport already holds a transaction');
    }
    await this.#slot.acquire(this);
    try {
      this.#requireCardUnchanged();
    } catch (error) {
      this.#slot.release(this);
      throw error;
    }
    this.#inTransaction = true;
  }

  async endTransaction(disposition: Disposition = 'leave'): Promise<void> {
    this.#requireOpen();
    if (!this.#inTransaction)
      throw new ScardError('SCARD_E_NOT_TRANSACTED', 'no transaction is open on this transport');
    try {
      if (this.#slot.present) this.#applyDisposition(disposition);
    } finally {
      this.#inTransaction = false;
      this.#slot.release(this);
    }
  }

  async reconnect(initialization: 'leave' | 'reset' | 'unpower' = 'leave'): Promise<Uint8Array> {
    this.#requireOpen();
    return this.#withLock(async () => {
      if (!this.#slot.present) throw new ScardError('SCARD_W_REMOVED_CARD', 'the simulated card was removed');
      this.#applyDisposition(initialization);
      // Reconnecting acknowledges any reset another transport did.
      this.#seenGeneration = this.#slot.generation;
      return this.atr;
    });
  }

  /**
   * Puts a removed card back into the reader (after a removal fault). It comes back powered (cold
   * reset); other transports on the card see SCARD_W_RESET_CARD once. Fires `reconnected`.
   */
  async reinsert(): Promise<void> {
    this.#requireOpen();
    if (this.#slot.present) return;
    try {
      this.#slot.insertCard();
    } catch (error) {
      throw ScardError.from(error, 'powering on the reinserted card');
    }
    this.#seenGeneration = this.#slot.generation;
    this.#removalReported = false;
    this.#emit({ type: 'reconnected' });
  }

  /** Simulates pulling the card out of the reader now (for every transport on it). Fires `removed`. */
  async removeCard(): Promise<void> {
    this.#requireOpen();
    if (!this.#slot.present) return;
    this.#slot.removeCard();
    this.#removalReported = true;
    this.#emit({ type: 'removed' });
  }

  /**
   * The slot's instance, its card event counter (bumped by removal and insertion, not by resets or power
   * cycles, as pcsc-lite counts) and the ATR: the same while the card stays in; undefined while it is out.
   */
  async presenceToken(): Promise<string | undefined> {
    this.#requireOpen();
    if (!this.#slot.present) return undefined;
    return `sim:${this.#slot.instance}:${this.#slot.cardEvents}:${Buffer.from(this.#slot.card.atr).toString('hex')}`;
  }

  onEvent(listener: (event: TransportEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(disposition: Disposition = 'leave'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#slot.present && disposition !== 'leave') this.#applyDisposition(disposition);
    } catch {
      // close never throws: a simulator failing to reset is not the caller's problem any more.
    }
    if (this.#inTransaction) {
      this.#inTransaction = false;
      this.#slot.releaseAll(this);
    }
    this.#listeners.clear();
  }

  /** Runs `action` holding the slot: inside our transaction directly, otherwise as one exclusive exchange. */
  async #withLock<T>(action: () => Promise<T>): Promise<T> {
    if (this.#inTransaction) {
      // Our own transaction holds the slot; still serialise our concurrent exchanges on the card.
      return this.#withExchangeToken(action);
    }
    const token = {};
    await this.#slot.acquire(token);
    try {
      return await action();
    } finally {
      this.#slot.release(token);
    }
  }

  /** Serialises exchanges of this transport while it holds a transaction (a card does one APDU at a time). */
  #exchanges: Promise<unknown> = Promise.resolve();
  #withExchangeToken<T>(action: () => Promise<T>): Promise<T> {
    const run = this.#exchanges.then(action, action);
    this.#exchanges = run.catch(() => undefined);
    return run;
  }

  #applyDisposition(disposition: Disposition | 'leave' | 'reset' | 'unpower'): void {
    try {
      if (disposition === 'reset') this.#slot.resetCard();
      else if (disposition === 'unpower' || disposition === 'eject') this.#slot.powerCycleCard();
    } catch (error) {
      throw ScardError.from(error, `simulated card failed to ${disposition}`);
    }
    if (disposition !== 'leave') this.#seenGeneration = this.#slot.generation;
  }

  /** Throws SCARD_W_REMOVED_CARD while the card is out, SCARD_W_RESET_CARD once after someone reset it. */
  #requireCardUnchanged(): void {
    if (!this.#slot.present) {
      if (!this.#removalReported) {
        this.#removalReported = true;
        this.#emit({ type: 'removed' });
      }
      throw new ScardError('SCARD_W_REMOVED_CARD', 'the simulated card was removed');
    }
    this.#removalReported = false;
    if (this.#seenGeneration !== this.#slot.generation) {
      this.#seenGeneration = this.#slot.generation;
      this.#emit({ type: 'reset' });
      throw new ScardError('SCARD_W_RESET_CARD', 'the card was reset since this transport last used it');
    }
  }

  #removeCard(): never {
    this.#slot.removeCard();
    this.#removalReported = true;
    this.#emit({ type: 'removed' });
    throw new ScardError('SCARD_W_REMOVED_CARD', 'the simulated card was removed');
  }

  #requireOpen(): void {
    if (this.#closed) throw new ScardError('SCARD_E_INVALID_HANDLE', 'this SimTransport is closed');
  }

  #emit(event: TransportEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not change what the transport reports.
      }
    }
  }
}
