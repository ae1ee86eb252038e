/**
 * The call pipeline of a session (docs/spec/minidriver.md §1.2, §1.5): every entry point goes through
 * availability gating (closed session, no-card mode, negotiated version, plugin slot), the synchronous
 * parameter checks, serialisation with the session's other calls, one card transaction that starts with
 * the cardcf freshness check, the per-call memo emptied at both boundaries, and the mapping of a reset or
 * removed card to the session's card event.
 *
 * @packageDocumentation
 */
import { MapCallMemo } from '@minidriver/card-kit';
import {
  type CardDataVersion,
  type EntryPointName,
  type Minidriver,
  NO_CARD_MODE_ENTRY_POINTS,
  ScardError,
  specEntryPointName,
  type Transport,
  type TransportEvent,
} from '@minidriver/spec';
import { requireEntryPointVersion } from './negotiate.js';
import { type TransactionScope, withTransaction } from './with-transaction.js';

/** The work of one entry point, run inside its transaction. */
export type CallWork<A, T> = (minidriver: Minidriver, args: A, scope: TransactionScope) => Promise<T>;

/** What the pipeline asks of the rest of the session. */
export interface CallPipelineHooks {
  /** The plugin's minidriver (set once CardAcquireContext returned). */
  minidriver(): Minidriver;
  /** Runs at the start of each outermost transaction (the cardcf freshness check). */
  beginTransaction(): Promise<void>;
  /** Runs at the end of each outermost transaction. */
  endTransaction(): void;
  /** Runs after each outermost transaction was released (saving what the cache learnt; never throws). */
  afterTransaction(): Promise<void>;
  /** A call found the card reset or removed. */
  cardEvent(event: TransportEvent): void;
}

/** Gating, validation, serialisation and one transaction per call. */
export class CallPipeline {
  readonly #transport: Transport;
  readonly #noCardMode: boolean;
  readonly #version: CardDataVersion;
  readonly #pluginName: string;
  readonly #hooks: CallPipelineHooks;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** The plugin's per-call memo (CardContext.memo), emptied before and after each entry point. */
  readonly memo = new MapCallMemo();
  /** Card transactions this session began. */
  transactions = 0;

  constructor(
    transport: Transport,
    noCardMode: boolean,
    version: CardDataVersion,
    pluginName: string,
    hooks: CallPipelineHooks,
  ) {
    this.#transport = transport;
    this.#noCardMode = noCardMode;
    this.#version = version;
    this.#pluginName = pluginName;
    this.#hooks = hooks;
  }

  /** True after the session closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Marks the session closed and waits for the calls already running. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => undefined);
  }

  /** SCARD_E_INVALID_HANDLE after close. */
  requireOpen(): void {
    if (this.#closed) throw new ScardError('SCARD_E_INVALID_HANDLE', 'the session is closed (CardDeleteContext)');
  }

  /**
   * Runs one entry point: availability (closed, no-card mode, negotiated version, plugin slot unless
   * `checkSlot` is false — the session adapts the call itself), then the synchronous parameter checks,
   * then — serialised with the session's other calls — the work inside one transaction.
   */
  call<A, T>(
    name: EntryPointName,
    validate: () => A,
    work: CallWork<A, T>,
    options: { checkSlot?: boolean } = {},
  ): Promise<T> {
    try {
      this.requireOpen();
      if (this.#noCardMode && !NO_CARD_MODE_ENTRY_POINTS.includes(name)) {
        throw new ScardError(
          'SCARD_E_UNSUPPORTED_FEATURE',
          `${specEntryPointName(name)} is not available in no-card mode`,
        );
      }
      requireEntryPointVersion(name, this.#version);
      if (options.checkSlot !== false && typeof this.#hooks.minidriver()[name] !== 'function') {
        throw new ScardError(
          'SCARD_E_UNSUPPORTED_FEATURE',
          `plugin "${this.#pluginName}" does not implement ${specEntryPointName(name)}`,
        );
      }
      let args: ReturnType<typeof validate>;
      try {
        args = validate();
      } catch (error) {
        // Reading the caller's arguments failed (a Proxy, a null-prototype object, a Symbol where a number
        // goes, a non-array list): that is an invalid parameter, not an unexpected failure.
        if (ScardError.isInstance(error)) throw error;
        throw new ScardError('SCARD_E_INVALID_PARAMETER', `${specEntryPointName(name)}: a parameter is not readable`, {
          cause: error,
        });
      }
      const run = this.#queue.then(() => this.#runInTransaction(name, args, work));
      this.#queue = run.catch(() => undefined);
      return run;
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
  }

  /**
   * Runs work outside the minidriver contract (card management): serialised with the session's calls, in
   * one transaction, not gated by entry point; only ScardError escapes (labelled with `context`).
   */
  exclusive<T>(context: string, work: (minidriver: Minidriver) => Promise<T>, after: () => void): Promise<T> {
    const run = this.#queue.then(async () => {
      this.requireOpen();
      try {
        return await withTransaction(this.#transport, async (scope) => {
          if (!scope.nested) this.transactions++;
          return work(this.#hooks.minidriver());
        });
      } catch (error) {
        throw ScardError.from(error, context);
      } finally {
        after();
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `work` inside one transaction (CardAcquireContext uses it before the session exists). Inside a
   * caller's transaction it joins it, and what was read at its start (cardcf) stays valid for the calls
   * that follow in it.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    let nested = true;
    try {
      return await withTransaction(this.#transport, (scope) => {
        nested = scope.nested;
        if (!scope.nested) this.transactions++;
        return work();
      });
    } finally {
      if (!nested) this.#hooks.endTransaction();
      this.memo.clear();
      if (!nested) await this.#hooks.afterTransaction();
    }
  }

  async #runInTransaction<A, T>(name: EntryPointName, args: A, work: CallWork<A, T>): Promise<T> {
    this.requireOpen();
    this.memo.clear();
    const minidriver = this.#hooks.minidriver();
    let nested = true;
    try {
      if (this.#noCardMode) return await work(minidriver, args, { nested: false, requestReset: () => undefined });
      return await withTransaction(this.#transport, async (scope) => {
        nested = scope.nested;
        if (!scope.nested) this.transactions++;
        try {
          await this.#hooks.beginTransaction();
          return await work(minidriver, args, scope);
        } finally {
          if (!scope.nested) this.#hooks.endTransaction();
        }
      });
    } catch (error) {
      const failure = ScardError.from(error, specEntryPointName(name));
      if (ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') || ScardError.hasCode(failure, 'SCARD_W_REMOVED_CARD')) {
        this.#hooks.cardEvent({ type: ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') ? 'reset' : 'removed' });
      }
      throw failure;
    } finally {
      this.memo.clear();
      if (!nested) await this.#hooks.afterTransaction();
    }
  }
}
