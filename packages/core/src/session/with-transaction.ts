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
   * End the transaction with SCARD_RESET_CARD instead of leaving the card (the caller's fallback when a
   * plugin cannot deauthenticate, docs/spec/minidriver.md §5.2.10). From a nested call this applies to the outer transaction.
   */
  requestReset(): void;
}

interface OpenTransaction {
  resetRequested: boolean;
}

const openTransactions = new AsyncLocalStorage<ReadonlyMap<Transport, OpenTransaction>>();

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
  if (joined !== undefined) {
    return work({
      nested: true,
      requestReset: () => {
        joined.resetRequested = true;
      },
    });
  }
  const open: OpenTransaction = { resetRequested: false };
  const chain = new Map(outer ?? []);
  chain.set(transport, open);
  try {
    await transport.beginTransaction();
  } catch (error) {
    throw ScardError.from(error, 'beginTransaction');
  }
  let result: T;
  try {
    result = await openTransactions.run(chain, () =>
      work({
        nested: false,
        requestReset: () => {
          open.resetRequested = true;
        },
      }),
    );
  } catch (error) {
    await transport.endTransaction(open.resetRequested ? 'reset' : 'leave').catch(() => undefined);
    throw ScardError.from(error);
  }
  try {
    await transport.endTransaction(open.resetRequested ? 'reset' : 'leave');
  } catch (error) {
    throw ScardError.from(error, 'endTransaction');
  }
  return result;
}
