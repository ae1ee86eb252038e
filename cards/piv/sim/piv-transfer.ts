/**
 * The card's side of long transfers: assembling chained command blocks (CLA b5 = 1) and handing out
 * long responses in pieces with 61xx / GET RESPONSE (docs/spec/iso7816.md §2).
 */
import { fail, PivStatus } from './piv-status.js';

/** Largest assembled command a chain may build (RSA-4096 import and 3 KB objects fit easily). */
const MAX_CHAIN_LENGTH = 8192;

/** Collects the data of a command chain. */
export class CommandChain {
  #header: string | undefined;
  #blocks: Uint8Array[] = [];
  #length = 0;

  /** True while blocks of a chain wait for their last command. */
  get pending(): boolean {
    return this.#header !== undefined;
  }

  /** Adds a non-final block. A block for another command starts a new chain (the old one is discarded). */
  append(ins: number, p1: number, p2: number, data: Uint8Array): void {
    const header = headerKey(ins, p1, p2);
    if (this.#header !== header) this.discard();
    this.#header = header;
    this.#length += data.length;
    if (this.#length > MAX_CHAIN_LENGTH) {
      this.discard();
      fail(PivStatus.wrongLength);
    }
    this.#blocks.push(Uint8Array.from(data));
  }

  /**
   * Completes a chain with its last block: the whole data when the header matches the chain, else the
   * block alone (a different command interrupts and discards the chain, as PIV specifies).
   */
  complete(ins: number, p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (this.#header !== headerKey(ins, p1, p2)) {
      this.discard();
      return data;
    }
    const whole = new Uint8Array(this.#length + data.length);
    let offset = 0;
    for (const block of this.#blocks) {
      whole.set(block, offset);
      offset += block.length;
    }
    whole.set(data, offset);
    this.discard();
    return whole;
  }

  /** Forgets any partial chain. */
  discard(): void {
    this.#header = undefined;
    for (const block of this.#blocks) block.fill(0);
    this.#blocks = [];
    this.#length = 0;
  }
}

function headerKey(ins: number, p1: number, p2: number): string {
  return `${ins}:${p1}:${p2}`;
}

/** One piece of a response and its status word. */
export interface ResponsePiece {
  readonly data: Uint8Array;
  readonly statusWord: number;
}

/** Holds the rest of a long response for GET RESPONSE. */
export class ResponseQueue {
  #remaining: Uint8Array = new Uint8Array(0);
  #finalStatus = PivStatus.success as number;

  /** True when GET RESPONSE has something to return. */
  get pending(): boolean {
    return this.#remaining.length > 0;
  }

  /**
   * Returns the first `maxLength` bytes of a response; anything beyond waits here, announced with 61xx
   * (xx = bytes left, 00 meaning 256 or more).
   */
  start(data: Uint8Array, statusWord: number, maxLength: number): ResponsePiece {
    this.clear();
    if (data.length <= maxLength) return { data, statusWord };
    this.#remaining = data.subarray(maxLength);
    this.#finalStatus = statusWord;
    return { data: data.subarray(0, maxLength), statusWord: this.#moreStatus() };
  }

  /** The next piece for GET RESPONSE. */
  next(maxLength: number): ResponsePiece {
    const piece = this.#remaining.subarray(0, maxLength);
    this.#remaining = this.#remaining.subarray(piece.length);
    return { data: piece, statusWord: this.pending ? this.#moreStatus() : this.#finalStatus };
  }

  /** Drops an unfinished response (any command other than GET RESPONSE does this). */
  clear(): void {
    this.#remaining = new Uint8Array(0);
    this.#finalStatus = PivStatus.success;
  }

  #moreStatus(): number {
    return 0x6100 | (this.#remaining.length > 0xff ? 0 : this.#remaining.length);
  }
}
