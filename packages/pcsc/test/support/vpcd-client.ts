/**
 * A minimal vpcd card client (the vsmartcard "vicc" side), local to this test folder until
 * @minidriver/sim's serveVpcd lands; same API subset. Wire format: every message is a 2-byte big-endian
 * length and a payload; a 1-byte payload from vpcd is a control byte (0 power off, 1 power on, 2 reset,
 * 4 get ATR), anything longer is a command APDU.
 */
import { connect, type Socket } from 'node:net';
import type { SimulatedCard } from '@minidriver/sim';

export interface VpcdServer {
  readonly connected: Promise<void>;
  isConnected(): boolean;
  close(): Promise<void>;
}

export function serveVpcd(card: SimulatedCard, options: { host?: string; port?: number } = {}): VpcdServer {
  const socket: Socket = connect({ host: options.host ?? '127.0.0.1', port: options.port ?? 35963 });
  let isOpen = false;
  let pending = Buffer.alloc(0);
  let chain = Promise.resolve();
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      isOpen = true;
      resolve();
    });
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const send = (payload: Uint8Array) => {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(payload.length);
    socket.write(Buffer.concat([header, payload]));
  };
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const payload = new Uint8Array(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      chain = chain.then(async () => {
        if (payload.length === 1) {
          const control = payload[0];
          if (control === 0) card.powerOff();
          else if (control === 1) card.powerOn();
          else if (control === 2) card.reset();
          else if (control === 4) send(card.atr);
        } else {
          send(await card.process(payload));
        }
      });
    }
  });
  socket.on('close', () => {
    isOpen = false;
  });
  return {
    connected,
    isConnected: () => isOpen,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
      }),
  };
}
