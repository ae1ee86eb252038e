/**
 * @packageDocumentation
 * The slots every connection sees: one per reader, with an id that stays the same for a reader as long
 * as the server runs (readers that come later get new ids), and the registry of which connections are
 * logged in to which token, so that one client's C_Logout never logs another client out of the card.
 */
import type { Reader, Token, TokenSource } from './token-source.js';

/** A slot: its id and the reader behind it. */
export interface Slot {
  readonly id: number;
  readonly reader: Reader;
}

/** Slot ids per reader name, shared by all connections of one server. */
export class SlotTable {
  private readonly ids = new Map<string, number>();
  private readonly logins = new Map<Token, Set<object>>();
  private readonly listeners = new Set<(slotId: number) => void>();
  private unwatch: (() => void) | undefined;

  constructor(private readonly source: TokenSource) {}

  /** The current slots, in reader order. */
  list(): Slot[] {
    return this.source.readers().map((reader) => ({ id: this.idOf(reader.name), reader }));
  }

  private idOf(readerName: string): number {
    let id = this.ids.get(readerName);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(readerName, id);
    }
    return id;
  }

  /**
   * Calls `listener` with a slot's id whenever its token comes or goes (C_WaitForSlotEvent); returns what
   * stops it. The source is watched while at least one listener is.
   */
  onSlotEvent(listener: (slotId: number) => void): () => void {
    this.listeners.add(listener);
    if (this.unwatch === undefined && this.source.watch !== undefined) {
      this.unwatch = this.source.watch((readerName) => {
        const id = this.idOf(readerName);
        for (const each of [...this.listeners]) each(id);
      });
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.unwatch?.();
        this.unwatch = undefined;
      }
    };
  }

  /** The slot with this id, or undefined when no such reader is connected. */
  get(id: number): Slot | undefined {
    return this.list().find((slot) => slot.id === id);
  }

  /** Records that `holder` (a connection) is logged in to `token`. */
  addLogin(token: Token, holder: object): void {
    let holders = this.logins.get(token);
    if (holders === undefined) {
      holders = new Set();
      this.logins.set(token, holders);
    }
    holders.add(holder);
  }

  /** Forgets `holder`'s login; true when nobody else is logged in to the token any more. */
  removeLogin(token: Token, holder: object): boolean {
    const holders = this.logins.get(token);
    holders?.delete(holder);
    if (holders !== undefined && holders.size > 0) return false;
    this.logins.delete(token);
    return true;
  }
}
