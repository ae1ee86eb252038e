/**
 * One card transaction around a unit of work (docs/spec/minidriver.md §1.2). Nested use in the same asynchronous call
 * chain joins the outer transaction instead of beginning a second one; concurrent calls from other chains
 * begin their own and wait in the transport, as SCardBeginTransaction does.
 *
 * @packageDocumentation
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transport } from '@minidriver/spec';
import { ScardError } from '@minidriver/spec';

/** What the work inside a transaction can ask of it. */
export interface TransactionScope {
  /** True when this call joined a transaction an outer call began. */
  readonly nested: boolean;
  /**
   * Names the card transaction the work runs in: the same object for every call that joined it, another
   * one for the next transaction (also after {@link restartTransaction}). Data read under one token is
   * provably fresh only while the token stays the same.
   */
  readonly token: object;
  /**
   * End the transaction with SCARD_RESET_CARD instead of leaving the card (the caller's fallback when a
   * plugin cannot deauthenticate, docs/spec/minidriver.md §5.2.10). From a nested call this applies to the outer transaction.
   */
  requestReset(): void;
}

interface OpenTransaction {
  resetRequested: boolean;
  /** Ended (or lost): a chain that still carries it must not join it. */
  ended: boolean;
  /** Lost while restarting: the outermost call must not end it again. */
  lost: boolean;
  token: object;
}

const openTransactions = new AsyncLocalStorage<ReadonlyMap<Transport, OpenTransaction>>();

function scopeOf(open: OpenTransaction, nested: boolean): TransactionScope {
  return {
    nested,
    get token() {
      return open.token;
    },
    requestReset: () => {
      open.resetRequested = true;
    },
  };
}

/**
 * Runs `work` inside `transport.beginTransaction()` / `endTransaction(...)`, ending with `leave` (or
 * `reset` when requested) whatever happens. Only ScardError escapes: a non-ScardError failure becomes
 * SCARD_E_UNEXPECTED. When `work` fails and ending also fails, the work's error is the one thrown.
 */
export async function withTransaction<T>(
  transport: Transport,
  work: (scope: TransactionScope) => Promise<T>,
): Promise<T> {
  const outer = openTransactions.getStore();
  const joined = outer?.get(transport);
  if (joined !== undefined && !joined.ended) return work(scopeOf(joined, true));
  const open: OpenTransaction = { resetRequested: false, ended: false, lost: false, token: {} };
  const chain = new Map(outer ?? []);
  chain.set(transport, open);
  try {
    await transport.beginTransaction();
  } catch (error) {
    throw ScardError.from(error, 'beginTransaction');
  }
  const end = async (): Promise<void> => {
    const wasLost = open.lost;
    open.ended = true;
    if (!wasLost) await transport.endTransaction(open.resetRequested ? 'reset' : 'leave');
  };
  let result: T;
  try {
    result = await openTransactions.run(chain, () => work(scopeOf(open, false)));
  } catch (error) {
    await end().catch(() => undefined);
    throw ScardError.from(error);
  }
  try {
    await end();
  } catch (error) {
    throw ScardError.from(error, 'endTransaction');
  }
  return result;
}

/**
 * Inside a transaction on `transport` (this call chain's): ends it now with `reset` when a reset was
 * requested, and begins a new one that the rest of the chain keeps using (with a new token). Returns
 * false (doing nothing) when no reset was requested or the chain holds no transaction on `transport`.
 * If the new transaction cannot begin, the old one counts as ended and the error is thrown.
 */
export async function applyRequestedReset(transport: Transport): Promise<boolean> {
  const open = openTransactions.getStore()?.get(transport);
  if (open === undefined || open.ended || !open.resetRequested) return false;
  open.resetRequested = false;
  open.token = {};
  try {
    await transport.endTransaction('reset');
    await transport.beginTransaction();
  } catch (error) {
    open.lost = true;
    open.ended = true;
    throw ScardError.from(error, 'resetting the card inside a transaction');
  }
  return true;
}
