/**
 * Several clients at once on one token (the PIV simulator in process, through the key store): each has its
 * own sessions, object handles and login state; one client's logout, session closing, malformed requests
 * or disconnection never disturb another's.
 */
import { PivSimulator } from '@minidriver/card-piv/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CKA, CKF_DONT_BLOCK, CKF_SESSION, CKM, CKO, CKR, CKS, CKU } from '../src/pkcs11/constants.js';
import { PIV_MANAGEMENT_KEY, provision, type ServedCard, serveInProcess, USER_PIN } from './card-support.js';
import { bytesArgument, RpcTestClient, templateArgument, ulongArray } from './rpc-client.js';

const SERIAL_RW = CKF_SESSION.SERIAL_SESSION | CKF_SESSION.RW_SESSION;

async function openSession(client: RpcTestClient): Promise<number> {
  const [slot] = ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(4))).reader);
  return (await client.call('C_OpenSession', (w) => w.uint64(slot as number).uint64(SERIAL_RW))).reader.uint64();
}

async function privateKeys(client: RpcTestClient, session: number): Promise<number[]> {
  await client.call('C_FindObjectsInit', (w) =>
    templateArgument(w.uint64(session), [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }]),
  );
  const found = ulongArray((await client.call('C_FindObjects', (w) => w.uint64(session).uint32(16))).reader);
  await client.call('C_FindObjectsFinal', (w) => w.uint64(session));
  return found;
}

async function signOnce(client: RpcTestClient, session: number, key: number): Promise<number> {
  const init = await client.call('C_SignInit', (w) =>
    w.uint64(session).uint32(CKM.SHA256_RSA_PKCS).byteArray(null).uint64(key),
  );
  if (init.rv !== 0) return init.rv;
  const signed = await client.call('C_Sign', (w) => bytesArgument(w.uint64(session), Buffer.from('data')).uint32(512));
  return signed.rv;
}

describe('clients are isolated from each other', () => {
  let served: ServedCard;

  beforeAll(async () => {
    const card = new PivSimulator({ seed: 'pkcs11-server isolation' });
    await provision(card, PIV_MANAGEMENT_KEY, [{ container: 0, algorithm: 'rsa2048', certificate: true }]);
    served = await serveInProcess(card);
  }, 120_000);

  afterAll(async () => {
    await served?.close();
  });

  it('login, private objects, logout and closing sessions stay per client', async () => {
    const a = await RpcTestClient.open(served.socketPath);
    const b = await RpcTestClient.open(served.socketPath);
    try {
      const sessionA = await openSession(a);
      const sessionB = await openSession(b);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(sessionA).uint64(CKU.USER), Buffer.from(USER_PIN)))).rv,
      ).toBe(0);
      const [keyA] = await privateKeys(a, sessionA);
      expect(keyA).toBeDefined();
      // B is not logged in: no private objects; handles are per client, so A's number names no key of B's.
      expect(await privateKeys(b, sessionB)).toEqual([]);
      expect([CKR.KEY_HANDLE_INVALID, CKR.KEY_TYPE_INCONSISTENT]).toContain(
        await signOnce(b, sessionB, keyA as number),
      );
      expect((await b.call('C_Logout', (w) => w.uint64(sessionB))).rv).toBe(CKR.USER_NOT_LOGGED_IN);
      // B logs in and out: A stays logged in and signs.
      expect(
        (await b.call('C_Login', (w) => bytesArgument(w.uint64(sessionB).uint64(CKU.USER), Buffer.from(USER_PIN)))).rv,
      ).toBe(0);
      expect((await b.call('C_Logout', (w) => w.uint64(sessionB))).rv).toBe(0);
      expect(await signOnce(a, sessionA, keyA as number)).toBe(0);
      // B closes all its sessions on the slot, then talks nonsense: A's session is untouched.
      expect((await b.call('C_CloseAllSessions', (w) => w.uint64(1))).rv).toBe(0);
      expect((await b.call('C_GetSessionInfo', (w) => w.uint64(sessionB))).rv).toBe(CKR.SESSION_HANDLE_INVALID);
      expect((await b.call('C_FindObjectsInit', (w) => w.uint64(sessionA).uint32(0x7fffffff))).rv).toBe(
        CKR.DEVICE_ERROR,
      );
      const info = await a.call('C_GetSessionInfo', (w) => w.uint64(sessionA));
      expect(info.rv).toBe(0);
      info.reader.uint64();
      expect(info.reader.uint64()).toBe(CKS.RW_USER_FUNCTIONS);
      // B starts an operation and vanishes: A goes on.
      const sessionB2 = await openSession(b);
      await b.call('C_Login', (w) => bytesArgument(w.uint64(sessionB2).uint64(CKU.USER), Buffer.from(USER_PIN)));
      const [keyB] = await privateKeys(b, sessionB2);
      await b.call('C_SignInit', (w) =>
        w
          .uint64(sessionB2)
          .uint32(CKM.SHA256_RSA_PKCS)
          .byteArray(null)
          .uint64(keyB as number),
      );
      b.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await signOnce(a, sessionA, keyA as number)).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a wrong PIN answers CKR_PIN_INCORRECT to its client only, and C_Login twice CKR_USER_ALREADY_LOGGED_IN', async () => {
    const a = await RpcTestClient.open(served.socketPath);
    try {
      const session = await openSession(a);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from('999999')))).rv,
      ).toBe(CKR.PIN_INCORRECT);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from(USER_PIN)))).rv,
      ).toBe(0);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from(USER_PIN)))).rv,
      ).toBe(CKR.USER_ALREADY_LOGGED_IN);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.SO), Buffer.from(USER_PIN)))).rv,
      ).toBe(CKR.USER_ANOTHER_ALREADY_LOGGED_IN);
      expect(
        (await a.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(7), Buffer.from(USER_PIN)))).rv,
      ).toBe(CKR.USER_TYPE_INVALID);
      expect(
        (await a.call('C_SignInit', (w) => w.uint64(session).uint32(0x8000_0001).byteArray(null).uint64(1))).rv,
      ).toBe(CKR.KEY_HANDLE_INVALID);
      // No card came or left since C_Initialize: nothing to report, and CKF_DONT_BLOCK does not wait.
      expect((await a.call('C_WaitForSlotEvent', (w) => w.uint64(CKF_DONT_BLOCK))).rv).toBe(CKR.NO_EVENT);
    } finally {
      a.close();
    }
  });
});
