/**
 * @packageDocumentation
 * One client connection: the version byte, then requests answered strictly in order, each with its own
 * {@link Pkcs11Application}. A malformed frame (bad header, over-long message) closes this connection
 * only; memory is bounded by the frame limits (the socket is paused while a request is being served).
 *
 * The one exception to the order is a C_WaitForSlotEvent that waits: it is answered when its event comes,
 * while the client's other calls go on (p11-kit's client matches replies to requests by message code, so
 * another thread of the client is not held up; no other client ever is).
 */
import type { Socket } from 'node:net';
import { type CallTrace, dispatch } from './dispatch.js';
import { type ApplicationLimits, DEFAULT_APPLICATION_LIMITS, Pkcs11Application } from './module/application.js';
import type { SlotTable } from './module/slots.js';
import { RPC_PROTOCOL_VERSION, rpcCall } from './rpc/calls.js';
import { DEFAULT_FRAME_LIMITS, encodeFrame, type FrameLimits, RpcFrameReader } from './rpc/framing.js';

/** Limits of one connection. */
export interface ConnectionLimits {
  readonly frame: FrameLimits;
  readonly application: ApplicationLimits;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  frame: DEFAULT_FRAME_LIMITS,
  application: DEFAULT_APPLICATION_LIMITS,
};

/** Serves one client until it disconnects; resolves once its sessions are closed and its logins released. */
export function serveConnection(
  socket: Socket,
  slots: SlotTable,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  onProtocolError: (message: string) => void = () => undefined,
  trace?: CallTrace,
): Promise<void> {
  const reader = new RpcFrameReader(limits.frame);
  const app = new Pkcs11Application(slots, limits.application);
  const highWater = limits.frame.maxBody + limits.frame.maxOptions + 12;
  let busy = false;
  let closed = false;
  let version = RPC_PROTOCOL_VERSION;

  const fail = (message: string) => {
    onProtocolError(message);
    socket.destroy();
  };

  const pump = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      const asked = reader.version();
      if (asked !== undefined) {
        // The client asks for the highest version it speaks; both sides then speak the lower of the two.
        version = Math.min(asked, RPC_PROTOCOL_VERSION);
        socket.write(Uint8Array.of(version));
        trace?.(`RPC protocol version ${version}`, 0);
      }
      for (;;) {
        const frame = reader.next();
        if (frame === undefined) break;
        const replying = dispatch(frame.body, app, trace, version).then((reply) => {
          if (!closed) socket.write(encodeFrame(frame.code, reply));
        });
        if (!isWaitForSlotEvent(frame.body)) await replying;
        else replying.catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
      }
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      busy = false;
      if (!closed && socket.isPaused() && reader.pending < highWater) socket.resume();
    }
    if (!closed && reader.pending >= 12) void pump();
  };

  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (reader.pending >= highWater) socket.pause();
      void pump();
    });
    socket.on('close', () => {
      closed = true;
      void app.finalize().finally(resolve);
    });
  });
}

const WAIT_FOR_SLOT_EVENT = rpcCall('C_WaitForSlotEvent').id;

/** True when a request body is a C_WaitForSlotEvent call (its first four bytes are the call id). */
function isWaitForSlotEvent(body: Uint8Array): boolean {
  return body.length >= 4 && new DataView(body.buffer, body.byteOffset, 4).getUint32(0) === WAIT_FOR_SLOT_EVENT;
}
