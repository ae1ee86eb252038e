/**
 * The server against the real p11-kit-client.so (handshake, C_Initialize, C_GetInfo, slot list) and
 * against hostile raw clients: malformed frames close only their own connection, malformed bodies get an
 * error reply, and a well-behaved client running at the same time is never disturbed.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dispatch } from '../src/dispatch.js';
import { Pkcs11Server } from '../src/index.js';
import { Pkcs11Application } from '../src/module/application.js';
import { SlotTable } from '../src/module/slots.js';
import { CKR } from '../src/pkcs11/constants.js';
import { RPC_HANDSHAKE, rpcCall } from '../src/rpc/calls.js';
import { RpcResponse } from '../src/rpc/message.js';
import { WireReader, WireWriter } from '../src/rpc/wire.js';
import { describeWithClient, pkcs11Tool } from './client-support.js';
import { RpcTestClient } from './rpc-client.js';

/** No reader connected: a real configuration of the server, enough for everything below the slots. */
const NO_READERS = { readers: () => [] };

function requestBody(
  callId: number,
  signature: string,
  write: (writer: WireWriter) => void = () => undefined,
): Uint8Array {
  const writer = new WireWriter().uint32(callId).byteArray(new TextEncoder().encode(signature));
  write(writer);
  return writer.finish();
}

function frame(code: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32BE(code, 0);
  header.writeUInt32BE(0, 4);
  header.writeUInt32BE(body.length, 8);
  return Buffer.concat([header, body]);
}

/** A raw client: sends bytes, collects what comes back until the server closes or `wait` ms pass. */
async function rawExchange(path: string, bytes: Uint8Array, wait = 300): Promise<{ reply: Buffer; closed: boolean }> {
  const socket: Socket = connect(path);
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(bytes);
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, wait))]);
  socket.destroy();
  return { reply: Buffer.concat(chunks), closed };
}

const INITIALIZE = requestBody(1, 'ayyay', (writer) =>
  writer.byte(1).byteArray(RPC_HANDSHAKE).byte(0).byte(1).byteArray(Uint8Array.of(0)),
);

describeWithClient(['pkcs11-tool'], 'p11-kit RPC server: protocol', () => {
  let directory: string;
  let server: Pkcs11Server;
  let socketPath: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pkcs11-server-'));
    socketPath = join(directory, 'run', 'pkcs11');
    server = await Pkcs11Server.listen({ socketPath, source: NO_READERS });
  });

  afterAll(async () => {
    await server?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('listens on a socket only its user can use (0600 in a 0700 directory)', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(directory, 'run'))).mode & 0o777).toBe(0o700);
    await expect(Pkcs11Server.listen({ socketPath, source: NO_READERS })).rejects.toThrow(/already listening/);
  });

  it('pkcs11-tool -I through p11-kit-client.so: handshake, C_Initialize, C_GetInfo', async () => {
    const result = await pkcs11Tool(socketPath, '-I');
    expect(result.output).toContain('Cryptoki version 2.40');
    expect(result.output).toMatch(/Manufacturer\s+minidriver/);
    expect(result.output).toContain('minidriver p11-kit server (ver 0.1)');
  });

  it('answers the version byte with the version asked (0: p11-kit 0.24, 1: p11-kit 0.25), and 1 to a client asking for more', async () => {
    expect((await rawExchange(socketPath, Uint8Array.of(0))).reply).toEqual(Buffer.of(0));
    expect((await rawExchange(socketPath, Uint8Array.of(1))).reply).toEqual(Buffer.of(1));
    expect((await rawExchange(socketPath, Uint8Array.of(2))).reply).toEqual(Buffer.of(1));
  });

  it('C_InitToken2 exists in protocol version 1 only (read and refused there, unknown in version 0)', async () => {
    const id = rpcCall('C_InitToken2').id;
    const arguments_ = (writer: WireWriter) =>
      writer.uint64(1).byte(1).byteArray(Buffer.from('12345678')).byteArray(Buffer.alloc(32, 0x20));
    const wellFormed = requestBody(id, 'uays', arguments_);
    const trailing = requestBody(id, 'uays', (writer) => arguments_(writer).byte(0));
    const replies = async (version: number) => {
      const stream = Buffer.concat([Buffer.of(version), frame(9, wellFormed), frame(10, trailing)]);
      const { reply } = await rawExchange(socketPath, stream);
      const first = reply.subarray(1 + 12, 1 + 12 + 17).toString('hex');
      return [first, reply.subarray(1 + 12 + 17 + 12).toString('hex')];
    };
    const hex = (rv: number) => Buffer.from(RpcResponse.error(rv)).toString('hex');
    // Version 0: an unknown call, whatever its arguments.
    expect(await replies(0)).toEqual([hex(CKR.FUNCTION_NOT_SUPPORTED), hex(CKR.FUNCTION_NOT_SUPPORTED)]);
    // Version 1: its arguments are read (a trailing byte is a malformed message), then cards are not re-initialized.
    expect(await replies(1)).toEqual([hex(CKR.FUNCTION_NOT_SUPPORTED), hex(CKR.DEVICE_ERROR)]);
  });

  it('replies to each request with its message code, in order, and CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize', async () => {
    const slotList = requestBody(4, 'yfu', (writer) => writer.byte(0).uint32(0));
    const stream = Buffer.concat([Buffer.of(0), frame(0x21, slotList), frame(0x22, INITIALIZE), frame(0x23, slotList)]);
    const { reply } = await rawExchange(socketPath, stream);
    const reader = new WireReader(reply.subarray(1));
    const codes: number[] = [];
    const bodies: string[] = [];
    while (reader.remaining > 0) {
      codes.push(reader.uint32());
      reader.uint32();
      bodies.push(Buffer.from(reader.raw(reader.uint32())).toString('hex'));
    }
    expect(codes).toEqual([0x21, 0x22, 0x23]);
    expect(bodies[0]).toBe(Buffer.from(RpcResponse.error(CKR.CRYPTOKI_NOT_INITIALIZED)).toString('hex'));
    expect(bodies[1]).toBe('0000000100000000');
    expect(bodies[2]).toBe('00000004000000026175' + '00' + '00000000');
  });

  it('closes a connection whose header announces a huge message, without reading it', async () => {
    const header = Buffer.alloc(12);
    header.writeUInt32BE(1, 0);
    header.writeUInt32BE(0, 4);
    header.writeUInt32BE(0xfffffff0, 8);
    const { reply, closed } = await rawExchange(socketPath, Buffer.concat([Buffer.of(0), header]), 2000);
    expect(closed).toBe(true);
    expect(reply).toEqual(Buffer.of(0));
  });

  it('answers unknown call ids with CKR_FUNCTION_NOT_SUPPORTED and a lying signature with CKR_DEVICE_ERROR', async () => {
    const unknown = requestBody(4000, '');
    const lying = requestBody(4, 'uuuu', (writer) => writer.uint64(1));
    const { reply } = await rawExchange(socketPath, Buffer.concat([Buffer.of(0), frame(7, unknown), frame(8, lying)]));
    expect(reply.subarray(13, 30).toString('hex')).toBe(
      Buffer.from(RpcResponse.error(CKR.FUNCTION_NOT_SUPPORTED)).toString('hex'),
    );
    expect(reply.subarray(30 + 12).toString('hex')).toBe(
      Buffer.from(RpcResponse.error(CKR.DEVICE_ERROR)).toString('hex'),
    );
  });

  it('bounds the C_WaitForSlotEvent calls one client keeps waiting (8), and ends them when it leaves', async () => {
    const client = await RpcTestClient.open(socketPath);
    const waits = Array.from({ length: 8 }, () => client.call('C_WaitForSlotEvent', (w) => w.uint64(0)));
    expect((await client.call('C_WaitForSlotEvent', (w) => w.uint64(0))).rv).toBe(CKR.FUNCTION_FAILED);
    // The eight are still waiting, and the client's other calls are answered.
    expect((await client.call('C_GetSlotList', (w) => w.byte(0).uint32(0))).rv).toBe(0);
    client.close();
    for (let attempt = 0; attempt < 50 && server.connections > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.connections).toBe(0);
    void Promise.allSettled(waits);
  });

  it('keeps serving a real client while hostile clients send garbage at the same time', async () => {
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 400 }), 20);
    const [tool] = await Promise.all([
      pkcs11Tool(socketPath, '-I'),
      ...garbage.map((bytes) => rawExchange(socketPath, bytes, 200)),
    ]);
    expect(tool.output).toContain('minidriver p11-kit server');
    // Every hostile connection is gone once its client is: nothing is left holding memory.
    for (let attempt = 0; attempt < 50 && server.connections > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.connections).toBe(0);
  });
});

it('dispatch answers any body with a reply frame body, never an exception (property)', async () => {
  const app = new Pkcs11Application(new SlotTable(NO_READERS));
  await dispatch(INITIALIZE, app);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 100 }), fc.uint8Array({ maxLength: 200 }), async (callId, tail) => {
      const body = new WireWriter().uint32(callId).raw(tail).finish();
      const reply = await dispatch(body, app);
      const id = new WireReader(reply).uint32();
      expect(id === 0 || id === callId).toBe(true);
    }),
  );
});
