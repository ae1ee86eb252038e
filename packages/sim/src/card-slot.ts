/**
 * The reader slot a simulated card sits in, shared by every SimTransport on that card object:
 * the transaction lock (so two transports in one process really exclude each other), one-at-a-time
 * exchanges, presence (removal faults) and a reset generation (so each transport learns, once, that
 * another one reset the card — PC/SC's SCARD_W_RESET_CARD).
 */
import { randomBytes } from 'node:crypto';
import type { SimulatedCard } from './simulated-card.js';

interface LockWaiter {
  readonly owner: object;
  readonly grant: () => void;
}

/** The shared state of one simulated card "in a reader". */
export class CardSlot {
  readonly card: SimulatedCard;
  /** False after a removal fault, until a transport reinserts the card. */
  present = true;
  /** Bumped at every reset, power cycle and reinsertion of the card. */
  generation = 0;
  /** This reader slot's instance (as a PC/SC resource manager's lifetime): random, never reused. */
  readonly instance = randomBytes(8).toString('hex');
  /** Card insertions and removals so far: PC/SC's card event counter (bumped on removal and insertion only). */
  cardEvents = 0;
  #owner: object | undefined;
  #depth = 0;
  readonly #waiters: LockWaiter[] = [];

  constructor(card: SimulatedCard) {
    this.card = card;
    // The card enters the reader powered, as a PC/SC reader powers a card when it is inserted.
    card.powerOn();
  }

  /** Who holds the lock (a transaction holder, or the token of a single exchange), if anyone. */
  get owner(): object | undefined {
    return this.#owner;
  }

  /** Takes the lock for `owner`; re-entrant for the same owner; otherwise waits in FIFO order. */
  acquire(owner: object): Promise<void> {
    if (this.#owner === undefined || this.#owner === owner) {
      this.#owner = owner;
      this.#depth += 1;
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ owner, grant }));
  }

  /** Gives up one level of `owner`'s hold; the next waiter gets the lock when the last level goes. */
  release(owner: object): void {
    if (this.#owner !== owner) return;
    this.#depth -= 1;
    if (this.#depth > 0) return;
    this.#owner = undefined;
    const next = this.#waiters.shift();
    if (next) {
      this.#owner = next.owner;
      this.#depth = 1;
      next.grant();
    }
  }

  /** Drops every level `owner` holds (on close). */
  releaseAll(owner: object): void {
    if (this.#owner !== owner) return;
    this.#depth = 1;
    this.release(owner);
  }

  /** Warm reset of the card; every transport but the one that did it will see SCARD_W_RESET_CARD once. */
  resetCard(): void {
    this.card.reset();
    this.generation += 1;
  }

  /** Power cycle (cold reset): volatile state is lost, the card comes back powered. */
  powerCycleCard(): void {
    this.card.powerOff();
    this.card.powerOn();
    this.generation += 1;
  }

  /** The card leaves the reader: it loses power. */
  removeCard(): void {
    if (!this.present) return;
    this.present = false;
    this.cardEvents += 1;
    this.card.powerOff();
  }

  /** The card comes back and is powered on (a cold reset for everyone). */
  insertCard(): void {
    if (this.present) return;
    this.present = true;
    this.cardEvents += 1;
    this.card.powerOn();
    this.generation += 1;
  }
}

const slots = new WeakMap<SimulatedCard, CardSlot>();

/** The slot of `card`: the same object for every transport on the same card object. */
export function slotOf(card: SimulatedCard): CardSlot {
  let slot = slots.get(card);
  if (!slot) {
    slot = new CardSlot(card);
    slots.set(card, slot);
  }
  return slot;
}
