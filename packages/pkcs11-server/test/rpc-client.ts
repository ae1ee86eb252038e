/**
 * Test support: a minimal p11-kit RPC client in TypeScript, encoding requests exactly as p11-kit's
 * rpc-client.c does for protocol version 0. It reaches what p11-kit-client.so 0.24 refuses to send
 * (CKM_ECDH1_DERIVE, which only p11-kit 0.25 serializes) and lets tests check raw replies.
 */
import { connect, type Socket } from 'node:net';
import { type Attribute, readAttributes, writeAttributes } from '../src/rpc/attributes.js';
import { RPC_HANDSHAKE, rpcCall } from '../src/rpc/calls.js';
import { WireReader, WireWriter } from '../src/rpc/wire.js';

/** A reply: `rv` 0 and the reader positioned after the signature, or the CK_RV of an error reply. */
export interface Reply {
  readonly rv: number;
  readonly reader: WireReader;
}

export class RpcTestClient {
  private nextCode = 0x10;
  private buffered = Buffer.alloc(0);
  private version: number | undefined;
  private versionWaiter: ((version: number) => void) | undefined;
  private readonly pending = new Map<number, (body: Uint8Array) => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
  }

  /**
   * Connects, exchanges the version byte (`version`, default 0 as p11-kit 0.24 does), and calls
   * C_Initialize. Replies are matched to requests by message code, so calls may be outstanding at once.
   */
  static async open(path: string, version = 0): Promise<RpcTestClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RpcTestClient(socket);
    const agreed = new Promise<number>((resolve) => (client.versionWaiter = resolve));
    socket.write(Uint8Array.of(version));
    await agreed;
    const init = await client.call('C_Initialize', (w) =>
      w.byte(1).byteArray(RPC_HANDSHAKE).byte(0).byte(1).byteArray(Uint8Array.of(0)),
    );
    if (init.rv !== 0) throw new Error(`C_Initialize: ${init.rv}`);
    return client;
  }

  /** The protocol version the server answered. */
  get agreedVersion(): number | undefined {
    return this.version;
  }

  private parse(): void {
    if (this.version === undefined) {
      if (this.buffered.length < 1) return;
      this.version = this.buffered[0] as number;
      this.buffered = this.buffered.subarray(1);
      this.versionWaiter?.(this.version);
    }
    while (this.buffered.length >= 12) {
      const length = this.buffered.readUInt32BE(8);
      if (this.buffered.length < 12 + length) return;
      const code = this.buffered.readUInt32BE(0);
      const body = new Uint8Array(this.buffered.subarray(12, 12 + length));
      this.buffered = this.buffered.subarray(12 + length);
      const resolve = this.pending.get(code);
      if (resolve === undefined) throw new Error(`a reply for message ${code}, which was not sent`);
      this.pending.delete(code);
      resolve(body);
    }
  }

  /** Sends call `name` with the arguments `write` encodes, returns the reply. */
  async call(name: string, write: (writer: WireWriter) => void = () => undefined): Promise<Reply> {
    const spec = rpcCall(name);
    const body = new WireWriter().uint32(spec.id).byteArray(new TextEncoder().encode(spec.request));
    write(body);
    const bytes = body.finish();
    const code = this.nextCode++;
    const header = Buffer.alloc(12);
    header.writeUInt32BE(code, 0);
    header.writeUInt32BE(0, 4);
    header.writeUInt32BE(bytes.length, 8);
    const replied = new Promise<Uint8Array>((resolve) => this.pending.set(code, resolve));
    this.socket.write(Buffer.concat([header, bytes]));
    const reader = new WireReader(await replied);
    const callId = reader.uint32();
    reader.byteArray();
    return callId === 0 ? { rv: reader.uint64(), reader } : { rv: 0, reader };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `ay` argument with content. */
export const bytesArgument = (writer: WireWriter, bytes: Uint8Array) => writer.byte(1).byteArray(bytes);
/** `aA` argument. */
export const templateArgument = (writer: WireWriter, template: readonly Attribute[]) =>
  writeAttributes(writer, template);
/** Reads an `au` reply part. */
export function ulongArray(reader: WireReader): number[] {
  reader.byte();
  const count = reader.uint32();
  return Array.from({ length: count }, () => reader.uint64());
}
/** Reads an `aA` reply part. */
export const attributeArray = (reader: WireReader): Attribute[] => readAttributes(reader);
