/**
 * The call pipeline of a session (docs/spec/minidriver.md §1.2, §1.5): every entry point goes through
 * availability gating (closed session, no-card mode, negotiated version, plugin slot), the synchronous
 * parameter checks, serialisation with the session's other calls, one card transaction that starts with
 * the cardcf freshness check, the per-call memo emptied at both boundaries, and the mapping of a reset or
 * removed card to the session's card event. An application may hold one transaction around several calls
 * ({@link CallPipeline.hold}): the calls of its async chain join it, in order; every other call of the
 * session waits until it ends.
 *
 * @packageDocumentation
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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
import { applyRequestedReset, type TransactionScope, withTransaction } from './with-transaction.js';

/** The work of one entry point, run inside its transaction. */
export type CallWork<A, T> = (minidriver: Minidriver, args: A, scope: TransactionScope) => Promise<T>;

/** What the pipeline asks of the rest of the session. */
export interface CallPipelineHooks {
  /** The plugin's minidriver (set once CardAcquireContext returned). */
  minidriver(): Minidriver;
  /**
   * Runs when work begins in a card transaction, outermost or joined: `token` names the transaction
   * ({@link TransactionScope.token}); what was kept for another token is no longer provably fresh.
   */
  enterTransaction(token: object): void;
  /** Runs at the start of each call's and each held transaction's work (the cardcf freshness check, once per transaction). */
  beginTransaction(): Promise<void>;
  /** Runs at the end of each outermost transaction. */
  endTransaction(): void;
  /** Runs after each outermost transaction was released (saving what the cache learnt; never throws). */
  afterTransaction(): Promise<void>;
  /** A call found the card reset or removed. */
  cardEvent(event: TransportEvent): void;
}

/** A transaction an application holds around several calls ({@link CallPipeline.hold}). */
interface HeldTransaction {
  /** The calls of the holding chain, one after the other. */
  queue: Promise<unknown>;
  /** True once the work returned and its calls drained: later calls of the chain queue like any other. */
  ended: boolean;
}

/** Gating, validation, serialisation and one transaction per call. */
export class CallPipeline {
  readonly #transport: Transport;
  readonly #noCardMode: boolean;
  readonly #version: CardDataVersion;
  readonly #pluginName: string;
  readonly #hooks: CallPipelineHooks;
  #queue: Promise<unknown> = Promise.resolve();
  /** The held transaction of the current async chain, if any (per session: another session's is not ours). */
  readonly #held = new AsyncLocalStorage<HeldTransaction>();
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

  /** True when the current async chain holds a transaction of this session ({@link hold}). */
  get holding(): boolean {
    const held = this.#held.getStore();
    return held !== undefined && !held.ended;
  }

  /** Marks the session closed and waits for the calls already running. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => undefined);
  }

  /**
   * Serialises `run` with the session's other calls: behind the calls of the held transaction when the
   * current chain holds one, else behind every call and held transaction of the session.
   */
  #enqueue<T>(run: () => Promise<T>): Promise<T> {
    const held = this.#held.getStore();
    if (held !== undefined && !held.ended) {
      const inner = held.queue.then(run);
      held.queue = inner.catch(() => undefined);
      return inner;
    }
    const outer = this.#queue.then(run);
    this.#queue = outer.catch(() => undefined);
    return outer;
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
      return this.#enqueue(() => this.#runInTransaction(name, args, work));
    } catch (error) {
      return Promise.reject(ScardError.from(error));
    }
  }

  /**
   * Runs work outside the minidriver contract (card management): serialised with the session's calls, in
   * one transaction, not gated by entry point; only ScardError escapes (labelled with `context`).
   */
  exclusive<T>(context: string, work: (minidriver: Minidriver) => Promise<T>, after: () => void): Promise<T> {
    return this.#enqueue(async () => {
      this.requireOpen();
      try {
        return await withTransaction(this.#transport, async (scope) => {
          if (!scope.nested) this.transactions++;
          this.#hooks.enterTransaction(scope.token);
          return work(this.#hooks.minidriver());
        });
      } catch (error) {
        throw ScardError.from(error, context);
      } finally {
        after();
      }
    });
  }

  /**
   * Holds one card transaction around `work` (the session's public `transaction`): begins it once every
   * call queued before has run, checks freshness once at its start, runs the calls `work` makes (in its
   * async chain) inside it one after the other, waits for those it did not await, and ends it (`leave`, or
   * `reset` when a call asked) whether `work` returns or throws. Calls from other chains wait until it
   * ended. Inside a held transaction it simply runs `work`. `work`'s own error is rethrown as it is; a
   * failure to begin or end the transaction is a ScardError.
   */
  hold<T>(work: () => Promise<T>): Promise<T> {
    if (this.holding) return work();
    return this.#enqueue(async () => {
      this.requireOpen();
      const held: HeldTransaction = { queue: Promise.resolve(), ended: false };
      type Outcome = { ok: true; value: T } | { ok: false; error: unknown };
      let outermost = false;
      let outcome: Outcome;
      try {
        outcome = await withTransaction(this.#transport, async (scope): Promise<Outcome> => {
          outermost = !scope.nested;
          if (outermost) this.transactions++;
          try {
            return await this.#held.run(held, async (): Promise<Outcome> => {
              try {
                this.#hooks.enterTransaction(scope.token);
                try {
                  await this.#hooks.beginTransaction();
                } catch (error) {
                  throw this.#failure(error, 'beginning a transaction');
                }
                return { ok: true, value: await work() };
              } catch (error) {
                return { ok: false, error };
              } finally {
                // Calls the work started without awaiting them (and calls those started) still belong to it.
                let drained: Promise<unknown>;
                do {
                  drained = held.queue;
                  await drained;
                } while (drained !== held.queue);
                held.ended = true;
              }
            });
          } finally {
            if (outermost) this.#hooks.endTransaction();
          }
        });
      } finally {
        held.ended = true;
        this.memo.clear();
        if (outermost) await this.#hooks.afterTransaction();
      }
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
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
        this.#hooks.enterTransaction(scope.token);
        return work();
      });
    } finally {
      if (!nested) this.#hooks.endTransaction();
      this.memo.clear();
      if (!nested) await this.#hooks.afterTransaction();
    }
  }

  /** A failure as a ScardError; a reset or removed card is also the session's card event. */
  #failure(error: unknown, context: string): ScardError {
    const failure = ScardError.from(error, context);
    if (ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') || ScardError.hasCode(failure, 'SCARD_W_REMOVED_CARD')) {
      this.#hooks.cardEvent({ type: ScardError.hasCode(failure, 'SCARD_W_RESET_CARD') ? 'reset' : 'removed' });
    }
    return failure;
  }

  /**
   * A call inside a held transaction asked for the card to be reset (a deauthentication's fallback): the
   * reset cannot wait for the end of the held transaction (the PIN would stay verified for the calls that
   * follow), so the transaction ends now with a reset and a new one begins; what the old one read is
   * forgotten, as at the end of any transaction.
   */
  async #resetHeldIfRequested(): Promise<void> {
    let restarted: boolean;
    try {
      restarted = await applyRequestedReset(this.#transport);
    } catch (error) {
      // The transaction is lost: the held chain's next calls begin their own.
      await this.#transactionEnded();
      throw error;
    }
    if (!restarted) return;
    this.transactions++;
    await this.#transactionEnded();
  }

  async #transactionEnded(): Promise<void> {
    this.#hooks.endTransaction();
    this.memo.clear();
    await this.#hooks.afterTransaction();
  }

  async #runInTransaction<A, T>(name: EntryPointName, args: A, work: CallWork<A, T>): Promise<T> {
    this.requireOpen();
    this.memo.clear();
    const minidriver = this.#hooks.minidriver();
    let nested = true;
    try {
      if (this.#noCardMode)
        return await work(minidriver, args, { nested: false, token: {}, requestReset: () => undefined });
      return await withTransaction(this.#transport, async (scope) => {
        nested = scope.nested;
        if (!scope.nested) this.transactions++;
        let result: T;
        try {
          this.#hooks.enterTransaction(scope.token);
          await this.#hooks.beginTransaction();
          result = await work(minidriver, args, scope);
        } catch (error) {
          if (!scope.nested) this.#hooks.endTransaction();
          else if (this.holding) await this.#resetHeldIfRequested().catch(() => undefined);
          throw error;
        }
        if (!scope.nested) this.#hooks.endTransaction();
        else if (this.holding) await this.#resetHeldIfRequested();
        return result;
      });
    } catch (error) {
      throw this.#failure(error, specEntryPointName(name));
    } finally {
      this.memo.clear();
      if (!nested) await this.#hooks.afterTransaction();
    }
  }
}
