/**
 * @packageDocumentation
 * The card's side of long transfers (docs/spec/iso7816.md §2): command chaining (CLA b5) for PUT DATA,
 * PSO and CREATE FILE, and long responses handed out in pieces with 61xx / GET RESPONSE.
 */
import { fail, GidsStatus } from './gids-status.js';

/** Largest command a chain may assemble (a 4096-bit RSA import or a large certificate fits). */
const MAX_CHAIN_LENGTH = 16384;

/** Collects the blocks of a command chain. */
export class ChainBuffer {
  #header: number | undefined;
  #blocks: Uint8Array[] = [];
  #length = 0;

  get pending(): boolean {
    return this.#header !== undefined;
  }

  /** A non-final block; a block of another command discards the old chain. */
  add(header: number, data: Uint8Array): void {
    if (this.#header !== header) this.clear();
    this.#header = header;
    this.#length += data.length;
    if (this.#length > MAX_CHAIN_LENGTH) {
      this.clear();
      fail(GidsStatus.wrongLength);
    }
    this.#blocks.push(Uint8Array.from(data));
  }

  /** The last block: the whole chain's data when the header matches, else `data` alone. */
  finish(header: number, data: Uint8Array): Uint8Array {
    if (this.#header !== header) {
      this.clear();
      return data;
    }
    const whole = Buffer.concat([...this.#blocks, data]);
    this.clear();
    return new Uint8Array(whole);
  }

  clear(): void {
    for (const block of this.#blocks) block.fill(0);
    this.#header = undefined;
    this.#blocks = [];
    this.#length = 0;
  }
}

/** What remains of a long response. */
export class PendingResponse {
  #rest: Uint8Array = new Uint8Array(0);

  get pending(): boolean {
    return this.#rest.length > 0;
  }

  /** The first piece of `data` (at most `max` bytes) and its status word: 9000, or 61xx when more waits. */
  begin(data: Uint8Array, max: number): { data: Uint8Array; statusWord: number } {
    this.#rest = data.subarray(Math.min(max, data.length));
    return { data: data.subarray(0, Math.min(max, data.length)), statusWord: this.#status() };
  }

  /** The next piece for GET RESPONSE. */
  next(max: number): { data: Uint8Array; statusWord: number } {
    const piece = this.#rest.subarray(0, max);
    this.#rest = this.#rest.subarray(piece.length);
    return { data: piece, statusWord: this.#status() };
  }

  clear(): void {
    this.#rest = new Uint8Array(0);
  }

  #status(): number {
    if (this.#rest.length === 0) return GidsStatus.success;
    return 0x6100 | (this.#rest.length > 0xff ? 0 : this.#rest.length);
  }
}
