/**
 * @packageDocumentation
 * The byte stream of one p11-kit RPC connection. The client first sends one byte, the protocol version
 * it wants, and the server answers with the version it speaks. Then every message is a 12-byte header
 * (message code, options length, body length: big-endian uint32) followed by the options (the client
 * module's name, ignored) and the body. A reply carries the request's message code. See
 * `p11_rpc_transport_read` / `rpc_transport_authenticate` in p11-kit's `p11-kit/rpc-transport.c`.
 *
 * {@link RpcFrameReader} reassembles frames from arbitrary chunks with bounded memory: a header that
 * announces more than the limits is a protocol error before any of its body is buffered.
 */
import { RpcProtocolError } from './wire.js';

/** One request frame. */
export interface RpcFrame {
  /** The message code the reply must carry. */
  readonly code: number;
  readonly body: Uint8Array;
}

/** Limits on what one frame may announce. */
export interface FrameLimits {
  /** Largest body accepted (bytes). */
  readonly maxBody: number;
  /** Largest options block accepted (bytes). */
  readonly maxOptions: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxBody: 1 << 20, maxOptions: 4096 };

const HEADER_LENGTH = 12;

/** Reassembles the version byte and the frames of one connection from the chunks a socket delivers. */
export class RpcFrameReader {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private versionRead = false;
  private header: { code: number; options: number; body: number } | undefined;

  constructor(private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS) {}

  /** Bytes received and not consumed yet. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The client's protocol version byte, once it has arrived (only the first call returns it). */
  version(): number | undefined {
    if (this.versionRead || this.buffered < 1) return undefined;
    this.versionRead = true;
    return this.take(1)[0];
  }

  /** The next complete frame, or undefined until more bytes arrive. Throws RpcProtocolError on a bad header. */
  next(): RpcFrame | undefined {
    if (!this.versionRead) throw new RpcProtocolError('the protocol version comes first');
    if (this.header === undefined) {
      if (this.buffered < HEADER_LENGTH) return undefined;
      const header = new DataView(this.take(HEADER_LENGTH).buffer);
      const code = header.getUint32(0);
      const options = header.getUint32(4);
      const body = header.getUint32(8);
      if (code === 0) throw new RpcProtocolError('message code 0 is not valid');
      if (options > this.limits.maxOptions) throw new RpcProtocolError(`options of ${options} bytes refused`);
      if (body > this.limits.maxBody) throw new RpcProtocolError(`message of ${body} bytes refused`);
      this.header = { code, options, body };
    }
    const { code, options, body } = this.header;
    if (this.buffered < options + body) return undefined;
    this.take(options);
    this.header = undefined;
    return { code, body: this.take(body) };
  }

  /** Removes `count` buffered bytes (count <= buffered) into a fresh array. */
  private take(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0] as Uint8Array;
      const used = Math.min(chunk.length, count - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.buffered -= count;
    return out;
  }
}

/** A reply frame: header (code, no options, body length) and body. */
export function encodeFrame(code: number, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_LENGTH + body.length);
  const header = new DataView(frame.buffer);
  header.setUint32(0, code);
  header.setUint32(4, 0);
  header.setUint32(8, body.length);
  frame.set(body, HEADER_LENGTH);
  return frame;
}
