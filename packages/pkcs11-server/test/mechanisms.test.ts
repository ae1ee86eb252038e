/**
 * The mechanisms p11-kit-client.so 0.24 does not forward (hashed PSS, ECDSA with SHA-2), sent by our RPC
 * test client as p11-kit 0.25 encodes them, and the length-query / multi-part conventions of C_Sign,
 * checked against node:crypto on the PIV simulator (in process, through the key store).
 */
import { constants, verify } from 'node:crypto';
import { PivSimulator } from '@minidriver/card-piv/sim';
import type { Key } from '@minidriver/keystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CKA, CKF_SESSION, CKG, CKM, CKO, CKR, CKU } from '../src/pkcs11/constants.js';
import type { WireWriter } from '../src/rpc/wire.js';
import { PIV_MANAGEMENT_KEY, provision, type ServedCard, serveInProcess, USER_PIN } from './card-support.js';
import { bytesArgument, RpcTestClient, templateArgument, ulongArray } from './rpc-client.js';

describe('mechanisms over RPC', () => {
  let served: ServedCard;
  let keys: Key[];
  let client: RpcTestClient;
  let session: number;

  const keyHandle = async (key: Key) => {
    const template = [
      { type: CKA.CLASS, value: CKO.PRIVATE_KEY },
      { type: CKA.ID, value: new Uint8Array(Buffer.from(key.id, 'hex')) },
    ];
    await client.call('C_FindObjectsInit', (w) => templateArgument(w.uint64(session), template));
    const [handle] = ulongArray((await client.call('C_FindObjects', (w) => w.uint64(session).uint32(2))).reader);
    await client.call('C_FindObjectsFinal', (w) => w.uint64(session));
    return handle as number;
  };
  const signInit = async (mechanism: (w: WireWriter) => void, key: Key) => {
    const handle = await keyHandle(key);
    return (
      await client.call('C_SignInit', (w) => {
        w.uint64(session);
        mechanism(w);
        w.uint64(handle);
      })
    ).rv;
  };
  const sign = async (data: Uint8Array, capacity: number) => {
    const reply = await client.call('C_Sign', (w) => bytesArgument(w.uint64(session), data).uint32(capacity));
    if (reply.rv !== 0) return { rv: reply.rv };
    const present = reply.reader.byte() === 1;
    if (!present) return { rv: 0, length: reply.reader.uint32() };
    return { rv: 0, signature: reply.reader.byteArray() as Uint8Array };
  };

  beforeAll(async () => {
    const card = new PivSimulator({ seed: 'pkcs11-server mechanisms', version: [5, 7, 0] });
    await provision(card, PIV_MANAGEMENT_KEY, [
      { container: 0, algorithm: 'rsa2048', certificate: false },
      { container: 3, algorithm: 'p384', certificate: false },
    ]);
    served = await serveInProcess(card);
    keys = await (served.store.tokens[0] as NonNullable<(typeof served.store.tokens)[0]>).keys();
    client = await RpcTestClient.open(served.socketPath);
    const [slot] = ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(4))).reader);
    session = (
      await client.call('C_OpenSession', (w) => w.uint64(slot as number).uint64(CKF_SESSION.SERIAL_SESSION))
    ).reader.uint64();
    await client.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from(USER_PIN)));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await served?.close();
  });

  it('CKM_SHA256_RSA_PKCS_PSS (salt 32): a length query first, then a signature node:crypto verifies', async () => {
    const rsa = keys.find((key) => key.algorithm.type === 'rsa') as Key;
    expect(
      await signInit(
        (w) => w.uint32(CKM.SHA256_RSA_PKCS_PSS).uint64(CKM.SHA256).uint64(CKG.MGF1_SHA256).uint64(32),
        rsa,
      ),
    ).toBe(0);
    const data = Buffer.from('hashed PSS over RPC');
    expect(await sign(data, 0)).toEqual({ rv: 0, length: 256 });
    expect(await sign(data, 100)).toEqual({ rv: 0, length: 256 }); // too small: the operation goes on
    const { signature } = await sign(data, 256);
    expect(
      verify(
        'sha256',
        data,
        { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature as Uint8Array,
      ),
    ).toBe(true);
    expect((await sign(data, 256)).rv).toBe(CKR.OPERATION_NOT_INITIALIZED);
  });

  it('CKM_ECDSA_SHA384 multi-part (C_SignUpdate, C_SignFinal): r ‖ s that node:crypto verifies', async () => {
    const ec = keys.find((key) => key.algorithm.type === 'ec') as Key;
    expect(await signInit((w) => w.uint32(CKM.ECDSA_SHA384).byteArray(null), ec)).toBe(0);
    for (const part of ['multi', '-part ', 'ECDSA']) {
      expect((await client.call('C_SignUpdate', (w) => bytesArgument(w.uint64(session), Buffer.from(part)))).rv).toBe(
        0,
      );
    }
    const reply = await client.call('C_SignFinal', (w) => w.uint64(session).uint32(96));
    expect(reply.rv).toBe(0);
    reply.reader.byte();
    const signature = reply.reader.byteArray() as Uint8Array;
    expect(signature.length).toBe(96);
    expect(
      verify('sha384', Buffer.from('multi-part ECDSA'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true);
  });

  it('refuses what a key cannot do: decrypt with an EC key, PSS with a mismatched MGF, a mechanism it does not know', async () => {
    const rsa = keys.find((key) => key.algorithm.type === 'rsa') as Key;
    const ec = keys.find((key) => key.algorithm.type === 'ec') as Key;
    const ecHandle = await keyHandle(ec);
    expect(
      (
        await client.call('C_DecryptInit', (w) =>
          w.uint64(session).uint32(CKM.RSA_PKCS).byteArray(null).uint64(ecHandle),
        )
      ).rv,
    ).toBe(CKR.KEY_TYPE_INCONSISTENT);
    expect(
      await signInit((w) => w.uint32(CKM.RSA_PKCS_PSS).uint64(CKM.SHA256).uint64(CKG.MGF1_SHA1).uint64(32), rsa),
    ).toBe(0);
    expect((await sign(Buffer.alloc(32), 256)).rv).toBe(CKR.MECHANISM_PARAM_INVALID);
    expect(await signInit((w) => w.uint32(0x1234).byteArray(null), rsa)).toBe(CKR.MECHANISM_INVALID);
  });
});
