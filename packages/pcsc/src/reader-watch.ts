/**
 * ReaderWatch: reader and card events from SCardGetStatusChange, on a context of its own. Reader
 * arrivals and departures come from the "\\?PnP?\Notification" pseudo reader (polled on macOS, which lacks it).
 */
import { EventEmitter } from 'node:events';
import { ScardCode, ScardError } from '@minidriver/spec';
import {
  INFINITE,
  PNP_NOTIFICATION_READER,
  SCARD_SCOPE_SYSTEM,
  SCARD_STATE_CHANGED,
  SCARD_STATE_IGNORE,
  SCARD_STATE_PRESENT,
  SCARD_STATE_UNAVAILABLE,
  SCARD_STATE_UNKNOWN,
} from './constants.js';
import { check, scardFailure, succeeded } from './errors.js';
import {
  type NativeHandle,
  type NativeReaderState,
  type PcscLibrary,
  readerStateAtr,
  readerStateFor,
} from './native.js';
import { listReaderNames } from './reader-names.js';

/** A change a {@link ReaderWatch} reports. */
export type ReaderEvent =
  | { readonly type: 'reader-added'; readonly readerName: string }
  | { readonly type: 'reader-removed'; readonly readerName: string }
  | { readonly type: 'card-inserted'; readonly readerName: string; readonly atr: Uint8Array }
  | { readonly type: 'card-removed'; readonly readerName: string };

/** Options for `PcscContext.watch`. */
export interface WatchOptions {
  /** Report the readers and cards already present as reader-added / card-inserted first (default true). */
  readonly initialState?: boolean;
  /** Stops the watch when aborted. */
  readonly signal?: AbortSignal;
}

interface KnownReader {
  state: number;
  cardPresent: boolean;
}

/**
 * Watches readers and cards until closed. Use it as an async iterator (`for await (const event of watch)`)
 * or as an emitter (`watch.on('card-inserted', ...)`, plus `'event'` for all and `'error'`). Errors end the
 * iteration by throwing a ScardError.
 */
export class ReaderWatch extends EventEmitter implements AsyncIterable<ReaderEvent>, AsyncDisposable {
  private readonly handle: NativeHandle;
  private readonly known = new Map<string, KnownReader>();
  private readonly pending: ReaderEvent[] = [];
  private waiting: ((result: IteratorResult<ReaderEvent>) => void) | undefined;
  private waitingReject: ((error: unknown) => void) | undefined;
  private failure: ScardError | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  /** @internal Use `PcscContext.watch`. */
  constructor(
    private readonly library: PcscLibrary,
    private readonly options: WatchOptions,
    private readonly onClosed: () => void,
  ) {
    super();
    const handle = [0 as NativeHandle];
    check(library.establishContext(SCARD_SCOPE_SYSTEM, handle), 'SCardEstablishContext');
    this.handle = handle[0] as NativeHandle;
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.done = this.run().finally(() => {
      this.library.releaseContext(this.handle);
      this.onClosed();
    });
  }

  /** Stops watching (wraps SCardCancel) and waits until the watch has let go of its context. Never throws. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.library.cancel(this.handle);
    }
    await this.done.catch(() => undefined);
    this.finishIteration();
  }

  /** Closes the watch. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The events, in order, until {@link close}. */
  [Symbol.asyncIterator](): AsyncIterator<ReaderEvent> {
    return {
      next: () => {
        const event = this.pending.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.stopped) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.waitingReject = reject;
        });
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Waits for the first event that `predicate` accepts (handy in tests and scripts). */
  async waitFor(predicate: (event: ReaderEvent) => boolean): Promise<ReaderEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (event: ReaderEvent) => {
        if (!predicate(event)) return;
        cleanup();
        resolve(event);
      };
      const onError = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        this.off('event', onEvent);
        this.off('error', onError);
      };
      this.on('event', onEvent);
      this.on('error', onError);
    });
  }

  private async run(): Promise<void> {
    try {
      await this.synchronize(this.options.initialState !== false);
      const pollMs = this.library.platform.name === 'darwin' ? 1000 : INFINITE;
      let pnpState = 0;
      while (!this.stopped) {
        const readers = [...this.known.keys()];
        const states: NativeReaderState[] = readers.map((name) =>
          readerStateFor(name, (this.known.get(name)?.state ?? 0) & ~SCARD_STATE_CHANGED, this.library.platform),
        );
        const usePnp = this.library.platform.name !== 'darwin';
        if (usePnp) states.push(readerStateFor(PNP_NOTIFICATION_READER, pnpState, this.library.platform));
        if (states.length === 0) break;
        const code = await this.library.getStatusChange(this.handle, pollMs, states);
        if (this.stopped || code === ScardCode.SCARD_E_CANCELLED) break;
        if (code === ScardCode.SCARD_E_TIMEOUT) {
          if (!usePnp) await this.synchronize(true);
          continue;
        }
        if (code === ScardCode.SCARD_E_UNKNOWN_READER || code === ScardCode.SCARD_E_NO_READERS_AVAILABLE) {
          await this.synchronize(true);
          continue;
        }
        if (!succeeded(code)) throw scardFailure(code, 'SCardGetStatusChange');
        let readersChanged = false;
        for (const state of states) {
          if (state.szReader === PNP_NOTIFICATION_READER) {
            if (Number(state.dwEventState) & SCARD_STATE_CHANGED) readersChanged = true;
            pnpState = Number(state.dwEventState) & ~SCARD_STATE_CHANGED;
            continue;
          }
          const event = Number(state.dwEventState);
          if (event & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE)) {
            readersChanged = true;
            continue;
          }
          this.updateReader(state.szReader, event, readerStateAtr(state));
        }
        if (readersChanged) await this.synchronize(true);
      }
    } catch (error) {
      if (!this.stopped) this.fail(ScardError.from(error, 'reader watch'));
    } finally {
      this.stopped = true;
      this.finishIteration();
    }
  }

  /** Lists the readers, reports arrivals and departures, and reads the state of new readers. */
  private async synchronize(report: boolean): Promise<void> {
    const names = await listReaderNames(this.library, this.handle);
    for (const name of [...this.known.keys()]) {
      if (names.includes(name)) continue;
      const known = this.known.get(name);
      this.known.delete(name);
      if (known?.cardPresent) this.publish({ type: 'card-removed', readerName: name });
      this.publish({ type: 'reader-removed', readerName: name });
    }
    const added = names.filter((name) => !this.known.has(name));
    if (added.length === 0) return;
    const states = added.map((name) => readerStateFor(name, 0, this.library.platform));
    const code = await this.library.getStatusChange(this.handle, 0, states);
    if (!succeeded(code) && code !== ScardCode.SCARD_E_TIMEOUT) {
      if (code === ScardCode.SCARD_E_CANCELLED) return;
      // A reader that vanished meanwhile is picked up by the next synchronisation.
      if (code !== ScardCode.SCARD_E_UNKNOWN_READER) throw scardFailure(code, 'SCardGetStatusChange');
    }
    for (const state of states) {
      const event = Number(state.dwEventState);
      const cardPresent = (event & SCARD_STATE_PRESENT) !== 0 && (event & SCARD_STATE_UNAVAILABLE) === 0;
      this.known.set(state.szReader, { state: event & ~SCARD_STATE_CHANGED, cardPresent });
      if (!report) continue;
      this.publish({ type: 'reader-added', readerName: state.szReader });
      if (cardPresent) this.publish({ type: 'card-inserted', readerName: state.szReader, atr: readerStateAtr(state) });
    }
  }

  private updateReader(name: string, event: number, atr: Uint8Array): void {
    const known = this.known.get(name);
    if (!known) return;
    const cardPresent = (event & SCARD_STATE_PRESENT) !== 0;
    // pcsclite keeps an event counter in the high 16 bits: a card swapped between two waits changes it.
    const swapped = cardPresent && known.cardPresent && (event & 0xffff0000) !== (known.state & 0xffff0000);
    if (known.cardPresent && (!cardPresent || swapped)) this.publish({ type: 'card-removed', readerName: name });
    if (cardPresent && (!known.cardPresent || swapped)) this.publish({ type: 'card-inserted', readerName: name, atr });
    known.state = event & ~SCARD_STATE_CHANGED;
    known.cardPresent = cardPresent;
  }

  private publish(event: ReaderEvent): void {
    this.emit(event.type, event);
    this.emit('event', event);
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.waitingReject = undefined;
      resolve({ value: event, done: false });
    } else {
      this.pending.push(event);
      // Nobody iterates (emitter use): keep only the most recent events.
      if (this.pending.length > 1000) this.pending.shift();
    }
  }

  private fail(error: ScardError): void {
    this.failure = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this.waitingReject) {
      const reject = this.waitingReject;
      this.waiting = undefined;
      this.waitingReject = undefined;
      reject(error);
    }
  }

  private finishIteration(): void {
    if (this.waiting && this.pending.length === 0 && !this.failure) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.waitingReject = undefined;
      resolve({ value: undefined, done: true });
    }
  }
}
