/**
 * Slots and slot events through p11-kit-client.so and our server, with pcscd + vpcd: a reader without a
 * card is a slot without a token, C_GetSlotList(tokenPresent) filters it, the token follows insertion and
 * removal, and C_WaitForSlotEvent — which p11-kit's client forwards (pkcs11-tool --test-hotplug) — reports
 * them, waiting for its own client only.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { KeyStore } from '@minidriver/keystore';
import { acquireVpcdPortLock, serveVpcd, type VpcdServer } from '@minidriver/sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pkcs11Server } from '../src/index.js';
import { KeyStoreSource } from '../src/module/token-source.js';
import { CKF_DONT_BLOCK, CKF_SESSION, CKF_SLOT, CKR } from '../src/pkcs11/constants.js';
import { PORT, READER, testLoader, waitFor } from './card-support.js';
import { describeWithClient, P11_KIT_CLIENT, pkcs11Tool } from './client-support.js';
import { RpcTestClient, ulongArray } from './rpc-client.js';

describeWithClient(['pcscd', 'pkcs11-tool'], 'slots and slot events (pcscd + vpcd)', () => {
  let release: () => void;
  let store: KeyStore;
  let server: Pkcs11Server;
  let directory: string;
  let socketPath: string;
  let vpcd: VpcdServer | undefined;
  const card = new PivSimulator({ seed: 'pkcs11-server slots' });
  const tool = (...args: string[]) => pkcs11Tool(socketPath, ...args);

  beforeAll(async () => {
    // The reader is ours (the port lock) and empty: no card is served into it yet.
    release = await acquireVpcdPortLock(PORT);
    directory = await mkdtemp(join(tmpdir(), 'pkcs11-slots-'));
    store = await KeyStore.open({ readers: [READER], loader: testLoader() });
    socketPath = join(directory, 'pkcs11');
    server = await Pkcs11Server.listen({ socketPath, source: new KeyStoreSource(store) });
  }, 400_000); // the vpcd port lock may be held by another suite for a while

  afterAll(async () => {
    await server?.close();
    await store?.close();
    await vpcd?.close();
    await rm(directory, { recursive: true, force: true });
    release?.();
  });

  it('an empty reader is a slot without a token: not in C_GetSlotList(CK_TRUE), no CKF_TOKEN_PRESENT', async () => {
    expect(store.readers).toContain(READER);
    expect(store.tokens).toEqual([]);
    const listed = await tool('-L');
    expect(listed.output).toMatch(/Slot 0 \(0x1\): Virtual PCD 00 01\s+\(empty\)/);
    const client = await RpcTestClient.open(socketPath);
    try {
      expect(ulongArray((await client.call('C_GetSlotList', (w) => w.byte(0).uint32(8))).reader)).toEqual([1]);
      expect(ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(8))).reader)).toEqual([]);
      const info = await client.call('C_GetSlotInfo', (w) => w.uint64(1));
      info.reader.byteArray();
      info.reader.byteArray();
      expect(info.reader.uint64() & CKF_SLOT.TOKEN_PRESENT).toBe(0);
      expect((await client.call('C_GetTokenInfo', (w) => w.uint64(1))).rv).toBe(CKR.TOKEN_NOT_PRESENT);
      const open = await client.call('C_OpenSession', (w) => w.uint64(1).uint64(CKF_SESSION.SERIAL_SESSION));
      expect(open.rv).toBe(CKR.TOKEN_NOT_PRESENT);
      expect((await client.call('C_WaitForSlotEvent', (w) => w.uint64(CKF_DONT_BLOCK))).rv).toBe(CKR.NO_EVENT);
    } finally {
      client.close();
    }
  });

  it('pkcs11-tool --test-hotplug: p11-kit-client.so forwards C_WaitForSlotEvent, which returns the slot a card comes into', async () => {
    // --test-hotplug first polls C_GetSlotList on Enter ("x" ends that), then calls C_WaitForSlotEvent on
    // Enter, prints what changed, and asks again ("x" ends).
    const child = spawn('pkcs11-tool', ['--module', P11_KIT_CLIENT, '--test-hotplug'], {
      env: { ...process.env, P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.end('x\n\nx\n');
    try {
      await waitFor(() => output.includes('Calling C_WaitForSlotEvent'), 'pkcs11-tool to wait for a slot event');
      // It waits; other clients are served meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(output).not.toContain('C_WaitForSlotEvent failed');
      expect((await tool('-L')).output).toMatch(/\(empty\)/);
      vpcd = serveVpcd(card, { port: PORT });
      await vpcd.connected;
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
    expect(output).not.toContain('failed');
    expect(output).toMatch(/Calling C_WaitForSlotEvent: event on slot 0x1/);
    expect(output).toMatch(/Slot 0 \(0x1\): Virtual PCD 00 01[\s\S]*token model\s+: PIV/);
  });

  it('C_WaitForSlotEvent waits for its own client only: the same client is answered meanwhile, removal is an event', async () => {
    await waitFor(() => store.tokens.length === 1, 'the token');
    const client = await RpcTestClient.open(socketPath);
    try {
      // The insertion above came before this client's C_Initialize: nothing to report to it.
      expect((await client.call('C_WaitForSlotEvent', (w) => w.uint64(CKF_DONT_BLOCK))).rv).toBe(CKR.NO_EVENT);
      const waiting = client.call('C_WaitForSlotEvent', (w) => w.uint64(0));
      let answered = false;
      void waiting.then(() => (answered = true));
      // The client's next calls are answered while its wait goes on.
      expect(ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(8))).reader)).toEqual([1]);
      expect(answered).toBe(false);
      await (vpcd as VpcdServer).eject();
      const event = await waiting;
      expect(event.rv).toBe(0);
      expect(event.reader.uint64()).toBe(1);
      await waitFor(() => store.tokens.length === 0, 'the token to leave');
      expect(ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(8))).reader)).toEqual([]);
      // The card comes back while nobody waits: the event is kept for the next call.
      await (vpcd as VpcdServer).insert();
      await waitFor(() => store.tokens.length === 1, 'the token to come back');
      const kept = await client.call('C_WaitForSlotEvent', (w) => w.uint64(CKF_DONT_BLOCK));
      expect(kept.rv).toBe(0);
      expect(kept.reader.uint64()).toBe(1);
      expect((await tool('-L')).output).toMatch(/token model\s+: PIV/);
      // C_Finalize ends a wait in progress.
      const ended = client.call('C_WaitForSlotEvent', (w) => w.uint64(0));
      await client.call('C_Finalize');
      expect((await ended).rv).toBe(CKR.CRYPTOKI_NOT_INITIALIZED);
    } finally {
      client.close();
    }
  });
});
