/**
 * CardTransaction: a held SCardBeginTransaction as an AsyncDisposable. Disposing ends it with
 * SCARD_LEAVE_CARD and never throws (like pcsc-rust's Drop); `end(disposition)` is the form that reports
 * errors. Every card operation goes through it and throws once it has ended.
 */
import { type Disposition, ScardError } from '@minidriver/spec';
import type { PcscCard } from './pcsc-card.js';

/** A transaction on a {@link PcscCard}, from `card.transaction()`. */
export class CardTransaction implements AsyncDisposable {
  private ended = false;
  /** The error disposing met, if any (disposal itself never throws). */
  disposeError: ScardError | undefined;

  /** @internal Use `card.transaction()`. */
  constructor(readonly card: PcscCard) {}

  /** True until {@link end} or disposal. */
  get active(): boolean {
    return !this.ended && !this.card.isClosed;
  }

  /** Sends one APDU inside the transaction (wraps SCardTransmit). Throws SCARD_E_NOT_TRANSACTED once ended. */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    this.requireActive('SCardTransmit');
    return this.card.transmit(command);
  }

  /** Sends a reader control code inside the transaction (wraps SCardControl). */
  async control(code: number, data?: Uint8Array): Promise<Uint8Array> {
    this.requireActive('SCardControl');
    return this.card.control(code, data);
  }

  /** Reads a reader attribute inside the transaction (wraps SCardGetAttrib). */
  async getAttribute(id: number): Promise<Uint8Array> {
    this.requireActive('SCardGetAttrib');
    return this.card.getAttribute(id);
  }

  /** Ends the transaction (wraps SCardEndTransaction) and throws ScardError on failure. */
  async end(disposition: Disposition = 'leave'): Promise<void> {
    this.requireActive('SCardEndTransaction');
    this.ended = true;
    await this.card.endTransaction(disposition);
  }

  /** Ends the transaction with SCARD_LEAVE_CARD if still active; may be called again; never throws. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.card.endTransaction('leave');
    } catch (error) {
      this.disposeError = ScardError.from(error, 'SCardEndTransaction');
    }
  }

  private requireActive(functionName: string): void {
    if (!this.active) {
      throw new ScardError(
        'SCARD_E_NOT_TRANSACTED',
        `${functionName} on reader "${this.card.readerName}": the transaction has ended`,
      );
    }
  }
}

/**
 * Runs `body` inside a transaction on `card` (SCardBeginTransaction … SCardEndTransaction), ending it
 * with `disposition` whether `body` succeeds or throws. An error from `body` wins over one from ending.
 */
export async function withTransaction<T>(
  card: PcscCard,
  body: (transaction: CardTransaction) => Promise<T>,
  disposition: Disposition = 'leave',
): Promise<T> {
  const transaction = await card.transaction();
  let result: T;
  try {
    result = await body(transaction);
  } catch (error) {
    try {
      if (transaction.active) await transaction.end(disposition);
    } catch {
      // The body's error is the one the caller needs.
    }
    throw error;
  }
  if (transaction.active) await transaction.end(disposition);
  return result;
}
