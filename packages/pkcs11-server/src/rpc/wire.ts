/**
 * @packageDocumentation
 * The primitive encodings of p11-kit's RPC protocol: big-endian uint32 and uint64, single bytes, and
 * length-prefixed byte arrays (length 0xffffffff is a NULL array). Reading is bounded: every read checks
 * the bytes left, and a malformed buffer throws {@link RpcProtocolError}, never reads past the end.
 * See p11-kit's `p11-kit/rpc-message.c` (https://github.com/p11-glue/p11-kit).
 */

/** A malformed RPC message: the connection answers with an error or closes, nothing else. */
export class RpcProtocolError extends Error {
  override readonly name = 'RpcProtocolError';
}

/** The length that marks a NULL byte array on the wire. */
export const NULL_ARRAY_LENGTH = 0xffffffff;
/** p11-kit refuses byte arrays of this length or more. */
const MAX_ARRAY_LENGTH = 0x7fffffff;

/** Reads the primitives from one message body; every read is bounds-checked. */
export class WireReader {
  private offset: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(count: number, what: string): void {
    if (count > this.remaining) throw new RpcProtocolError(`truncated message: ${what} needs ${count} bytes`);
  }

  byte(): number {
    this.need(1, 'a byte');
    return this.bytes[this.offset++] as number;
  }

  uint32(): number {
    this.need(4, 'a uint32');
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  /** A uint64 as a number; values above 2^53 lose precision (no handle or flag of ours is that large). */
  uint64(): number {
    this.need(8, 'a uint64');
    const value = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return Number(value);
  }

  /** A length-prefixed byte array (a copy), or null for the NULL marker. */
  byteArray(): Uint8Array | null {
    const length = this.uint32();
    if (length === NULL_ARRAY_LENGTH) return null;
    if (length >= MAX_ARRAY_LENGTH) throw new RpcProtocolError('byte array length out of range');
    return this.raw(length);
  }

  /** `count` raw bytes (a copy). */
  raw(count: number): Uint8Array {
    this.need(count, 'a byte array');
    const value = this.bytes.slice(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }
}

/** Builds a message body from the primitives. */
export class WireWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private reserve(count: number): number {
    const at = this.length;
    if (at + count > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, at + count));
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
    }
    this.length += count;
    return at;
  }

  byte(value: number): this {
    const at = this.reserve(1);
    this.buffer[at] = value & 0xff;
    return this;
  }

  uint32(value: number): this {
    const at = this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(at, value >>> 0);
    return this;
  }

  /** A uint64; a negative number is written as its two's complement (-1 is CK_UNAVAILABLE_INFORMATION). */
  uint64(value: number | bigint): this {
    const at = this.reserve(8);
    new DataView(this.buffer.buffer).setBigUint64(at, BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** A length-prefixed byte array; null writes the NULL marker. */
  byteArray(value: Uint8Array | null): this {
    if (value === null) return this.uint32(NULL_ARRAY_LENGTH);
    if (value.length >= MAX_ARRAY_LENGTH) throw new RpcProtocolError('byte array too long');
    this.uint32(value.length);
    return this.raw(value);
  }

  raw(value: Uint8Array): this {
    // reserve() may replace the buffer: take the offset first.
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
