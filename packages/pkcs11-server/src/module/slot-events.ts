/**
 * @packageDocumentation
 * One client's slot events (C_WaitForSlotEvent): the slots where a token came or left and that were not
 * reported yet (each slot once, oldest first), and the client's calls waiting for the next one — at most
 * `maxWaiters` at once (more: CKR_FUNCTION_FAILED), all ended by {@link SlotEventQueue.end}.
 */
import { CKR } from '../pkcs11/constants.js';
import { check, Pkcs11Error } from '../pkcs11/errors.js';

interface Waiter {
  resolve(slotId: number): void;
  reject(error: Error): void;
}

/** The slot events of one client, from its C_Initialize to its C_Finalize. */
export class SlotEventQueue {
  private readonly pending: number[] = [];
  private readonly waiters = new Set<Waiter>();
  private ended = false;

  constructor(private readonly maxWaiters: number) {}

  /** An event on `slotId`: to the oldest waiting call, else kept (once per slot) for the next call. */
  push(slotId: number): void {
    if (this.ended) return;
    const [waiter] = this.waiters;
    if (waiter !== undefined) {
      this.waiters.delete(waiter);
      waiter.resolve(slotId);
    } else if (!this.pending.includes(slotId)) {
      this.pending.push(slotId);
    }
  }

  /** The next event's slot; `dontBlock` (CKF_DONT_BLOCK): CKR_NO_EVENT when none is pending. */
  next(dontBlock: boolean): Promise<number> {
    try {
      check(!this.ended, CKR.CRYPTOKI_NOT_INITIALIZED);
      const pending = this.pending.shift();
      if (pending !== undefined) return Promise.resolve(pending);
      check(!dontBlock, CKR.NO_EVENT);
      check(this.waiters.size < this.maxWaiters, CKR.FUNCTION_FAILED, 'too many C_WaitForSlotEvent calls waiting');
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /** C_Finalize (or the client left): every waiting call ends with CKR_CRYPTOKI_NOT_INITIALIZED. */
  end(): void {
    this.ended = true;
    this.pending.length = 0;
    for (const waiter of this.waiters) waiter.reject(new Pkcs11Error(CKR.CRYPTOKI_NOT_INITIALIZED));
    this.waiters.clear();
  }
}
