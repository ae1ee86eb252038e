/**
 * @packageDocumentation
 * One RPC message body: the call id (uint32), the call's signature (byte array), then the arguments in
 * signature order. {@link RpcRequest} reads a request and checks every part against the call table, so a
 * client cannot make the server read a type the call does not have; {@link RpcResponse} writes a response
 * and checks it the same way. See `p11_rpc_message_parse` / `p11_rpc_message_prep` in p11-kit.
 */
import { type Attribute, readAttributes, writeAttributes } from './attributes.js';
import { RPC_CALL_ERROR, RPC_PROTOCOL_VERSION, type RpcCall, rpcCallById } from './calls.js';
import { type Mechanism, readMechanism } from './mechanism.js';
import { RpcProtocolError, WireReader, WireWriter } from './wire.js';

/** A byte array argument: `data` null when the client sent only a length (its pointer was NULL). */
export interface ByteArrayArgument {
  readonly data: Uint8Array | null;
  readonly length: number;
}

/** One entry of an `fA` buffer: the attribute type and the capacity of the client's buffer (0 = NULL). */
export interface AttributeRequest {
  readonly type: number;
  readonly capacity: number;
}

const decoder = new TextDecoder();

/** A request body, read part by part in signature order. */
export class RpcRequest {
  readonly call: RpcCall | undefined;
  readonly callId: number;
  private signature: string;
  private readonly reader: WireReader;

  /**
   * Parses the call id and the signature; throws RpcProtocolError when they do not match the call table of
   * protocol `version` (a call of a later version is an unknown call).
   */
  constructor(body: Uint8Array, version: number = RPC_PROTOCOL_VERSION) {
    this.reader = new WireReader(body);
    this.callId = this.reader.uint32();
    this.call = rpcCallById(this.callId, version);
    const signature = this.reader.byteArray();
    if (signature === null) throw new RpcProtocolError('missing signature');
    this.signature = decoder.decode(signature);
    if (this.call !== undefined && this.signature !== this.call.request) {
      throw new RpcProtocolError(`signature of ${this.call.name} does not match`);
    }
  }

  private part(code: string): void {
    if (!this.signature.startsWith(code)) throw new RpcProtocolError(`expected ${code} in the request`);
    this.signature = this.signature.slice(code.length);
  }

  byte(): number {
    this.part('y');
    return this.reader.byte();
  }

  ulong(): number {
    this.part('u');
    return this.reader.uint64();
  }

  /** `ay`: a flag byte, then either the bytes or only a length. */
  byteArray(): ByteArrayArgument {
    this.part('ay');
    if (this.reader.byte() === 0) return { data: null, length: this.reader.uint32() };
    const data = this.reader.byteArray() ?? new Uint8Array(0);
    return { data, length: data.length };
  }

  /** `z`: a string (PKCS #11 labels are UTF-8). */
  zeroString(): Uint8Array {
    this.part('z');
    return this.reader.byteArray() ?? new Uint8Array(0);
  }

  /** `s`: a space-padded string (C_InitToken2's 32-byte label). */
  spaceString(): Uint8Array {
    this.part('s');
    return this.reader.byteArray() ?? new Uint8Array(0);
  }

  /** `fy`: the capacity of the client's output buffer (0 when it only asks for the length). */
  byteBuffer(): number {
    this.part('fy');
    return this.reader.uint32();
  }

  /** `fu`: the capacity of the client's ulong array (0 when it only asks for the count). */
  ulongBuffer(): number {
    this.part('fu');
    return this.reader.uint32();
  }

  /** `fA`: the attribute types asked for and the client's buffer sizes. */
  attributeBuffer(): AttributeRequest[] {
    this.part('fA');
    const count = this.reader.uint32();
    if (count * 8 > this.reader.remaining) throw new RpcProtocolError('attribute count larger than the message');
    return Array.from({ length: count }, () => ({ type: this.reader.uint32(), capacity: this.reader.uint32() }));
  }

  /** `aA`: a template. */
  attributeArray(): Attribute[] {
    this.part('aA');
    return readAttributes(this.reader);
  }

  /** `M`: a mechanism. */
  mechanism(): Mechanism {
    this.part('M');
    return readMechanism(this.reader);
  }

  /** Checks that the whole request was read: no signature part and no byte left over. */
  end(): void {
    if (this.signature !== '' || this.reader.remaining !== 0) throw new RpcProtocolError('trailing request data');
  }
}

/** A response body, written part by part; every part is checked against the call's response signature. */
export class RpcResponse {
  private signature: string;
  private readonly writer = new WireWriter();

  constructor(callId: number) {
    const signature = callId === RPC_CALL_ERROR ? 'u' : rpcCallById(callId)?.response;
    if (signature === undefined) throw new Error(`no RPC call ${callId}`);
    this.signature = signature;
    this.writer.uint32(callId).byteArray(new TextEncoder().encode(signature));
  }

  /** The error reply: call id 0 with the CK_RV. */
  static error(rv: number): Uint8Array {
    return new RpcResponse(RPC_CALL_ERROR).ulong(rv).finish();
  }

  private part(code: string): void {
    if (!this.signature.startsWith(code)) throw new Error(`response part ${code} is not in the signature`);
    this.signature = this.signature.slice(code.length);
  }

  byte(value: number): this {
    this.part('y');
    this.writer.byte(value);
    return this;
  }

  ulong(value: number | bigint): this {
    this.part('u');
    this.writer.uint64(value);
    return this;
  }

  /** `v`: a CK_VERSION. */
  version(major: number, minor: number): this {
    this.part('v');
    this.writer.byte(major).byte(minor);
    return this;
  }

  /** `s`: a blank-padded UTF-8 string of exactly `size` bytes (truncated on a character boundary). */
  spaceString(text: string, size: number): this {
    this.part('s');
    const padded = new Uint8Array(size).fill(0x20);
    const encoded = new TextEncoder().encode(text);
    let length = Math.min(encoded.length, size);
    // Never cut a UTF-8 sequence in half: back up to the start of the character.
    while (length < encoded.length && length > 0 && ((encoded[length] as number) & 0xc0) === 0x80) length--;
    padded.set(encoded.subarray(0, length));
    this.writer.byteArray(padded);
    return this;
  }

  /** `ay`: the bytes, or (data null) only the length the client needs. */
  byteArray(data: Uint8Array | null, length = data?.length ?? 0): this {
    this.part('ay');
    if (data === null) this.writer.byte(0).uint32(length);
    else this.writer.byte(1).byteArray(data);
    return this;
  }

  /** `au`: the values, or (values null) only the count the client needs. */
  ulongArray(values: readonly number[] | null, count = values?.length ?? 0): this {
    this.part('au');
    this.writer.byte(values === null ? 0 : 1).uint32(count);
    for (const value of values ?? []) this.writer.uint64(value);
    return this;
  }

  /** `aA`: attributes, each already resolved (value, invalid, or length-only through `raw`). */
  attributeArray(attributes: readonly Attribute[]): this {
    this.part('aA');
    writeAttributes(this.writer, attributes);
    return this;
  }

  /**
   * `aA` written entry by entry: `count` attributes, each by `write` (for replies that mix values,
   * invalid entries and length-only entries).
   */
  attributeEntries(count: number, write: (writer: WireWriter, index: number) => void): this {
    this.part('aA');
    this.writer.uint32(count);
    for (let index = 0; index < count; index++) write(this.writer, index);
    return this;
  }

  /** The finished body; throws if a part of the signature was not written (a programming error). */
  finish(): Uint8Array {
    if (this.signature !== '') throw new Error(`response is missing ${this.signature}`);
    return this.writer.finish();
  }
}
