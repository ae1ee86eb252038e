/**
 * @packageDocumentation
 * One client connection: the version byte, then requests answered strictly in order, each with its own
 * {@link Pkcs11Application}. A malformed frame (bad header, over-long message) closes this connection
 * only; memory is bounded by the frame limits (the socket is paused while a request is being served).
 */
import type { Socket } from 'node:net';
import { type CallTrace, dispatch } from './dispatch.js';
import { type ApplicationLimits, DEFAULT_APPLICATION_LIMITS, Pkcs11Application } from './module/application.js';
import type { SlotTable } from './module/slots.js';
import { RPC_PROTOCOL_VERSION } from './rpc/calls.js';
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

  const fail = (message: string) => {
    onProtocolError(message);
    socket.destroy();
  };

  const pump = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      const version = reader.version();
      if (version !== undefined) {
        // A newer client asks for a higher version; this server speaks version 0, which every client supports.
        socket.write(Uint8Array.of(Math.min(version, RPC_PROTOCOL_VERSION)));
      }
      for (;;) {
        const frame = reader.next();
        if (frame === undefined) break;
        const reply = await dispatch(frame.body, app, trace);
        if (closed) return;
        socket.write(encodeFrame(frame.code, reply));
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
    socket.on('data', (chunk: Buffer) => {
      reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (reader.pending >= highWater) socket.pause();
      void pump();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      void app.finalize().finally(resolve);
    });
  });
}
