/**
 * pkcs11-tool and openssl through p11-kit-client.so and our server, on the PIV simulator served into
 * pcscd through vpcd: slots, objects, login, sign (PKCS #1, PSS, ECDSA) verified by openssl, decrypt,
 * ECDH derivation, key generation, certificate writing, wrong PINs and removal.
 */
import {
  createHash,
  constants as cryptoConstants,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
} from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PivSimulator } from '@minidriver/card-piv/sim';
import type { Key } from '@minidriver/keystore';
import { opensslVerify } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CKA, CKD_NULL, CKF_SESSION, CKM, CKO, CKR, CKU } from '../src/pkcs11/constants.js';
import {
  openProvisioned,
  PIV_MANAGEMENT_KEY,
  type ServedCard,
  USER_PIN,
  waitFor,
  writeCertificateWithTool,
} from './card-support.js';
import { describeWithClient, pkcs11Tool, runClient } from './client-support.js';
import { attributeArray, bytesArgument, RpcTestClient, templateArgument, ulongArray } from './rpc-client.js';

describeWithClient(['pcscd', 'pkcs11-tool', 'openssl'], 'PIV card through our p11-kit server (pcscd + vpcd)', () => {
  let served: ServedCard;
  let keys: Key[];
  const file = (name: string) => join(served.directory, name);
  const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
  const idOf = (container: number) => (keys.find((key) => key.container === container) as Key).id;
  const pemOf = async (container: number) => {
    const path = file(`pub-${container}.pem`);
    const key = keys.find((candidate) => candidate.container === container) as Key;
    await writeFile(path, key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    return path;
  };

  beforeAll(async () => {
    ({ served, keys } = await openProvisioned(new PivSimulator({ seed: 'pkcs11-server piv' }), PIV_MANAGEMENT_KEY, [
      { container: 0, algorithm: 'rsa2048', certificate: true }, // 9A: signs and decrypts
      { container: 1, algorithm: 'p256', pin: 'signature', certificate: true }, // 9C: PIN-always signature key
      { container: 2, algorithm: 'p256', usage: 'derive', certificate: false }, // 9D: ECDH
    ]));
  }, 400_000);

  afterAll(async () => {
    await served?.close();
  });

  it('-L lists the reader as a slot with the PIV token', async () => {
    const result = await tool('-L');
    expect(result.output).toMatch(/Slot 0 \(0x1\): (Virtual PCD 00 01|Simulated PIV)/);
    expect(result.output).toMatch(/token model\s+: PIV/);
    expect(result.output).toMatch(/token flags\s+: login required, .*token initialized, PIN initialized/);
  });

  it('-O lists each key as a private key, a public key and its certificate, with matching CKA_ID and label', async () => {
    const anonymous = await tool('-O');
    expect(anonymous.output).not.toContain('Private Key Object'); // private objects need C_Login
    expect(anonymous.output.match(/Public Key Object/g)?.length).toBe(3);
    const result = await tool('--login', '--pin', USER_PIN, '-O');
    expect(result.code).toBe(0);
    expect(result.output.match(/Private Key Object/g)?.length).toBe(3);
    expect(result.output.match(/Public Key Object/g)?.length).toBe(3);
    expect(result.output.match(/Certificate Object/g)?.length).toBe(2);
    for (const key of keys)
      expect(result.output.match(new RegExp(`ID:\\s+${key.id}`, 'g'))?.length).toBeGreaterThanOrEqual(2);
    expect(result.output).toMatch(/label:\s+PIV container 0/);
    expect(result.output).toContain('Public Key Object; RSA 2048 bits');
  });

  it('--sign SHA256-RSA-PKCS (PKCS #1 v1.5) verifies with openssl', async () => {
    await writeFile(file('data'), 'signed through p11-kit-client.so');
    const result = await tool(
      '--login',
      '--pin',
      USER_PIN,
      '--sign',
      '-m',
      'SHA256-RSA-PKCS',
      '--id',
      idOf(0),
      '-i',
      file('data'),
      '-o',
      file('sig-rsa'),
    );
    expect(result.code, result.output).toBe(0);
    const verify = await opensslVerify({
      digest: 'sha256',
      publicKeyPath: await pemOf(0),
      signaturePath: file('sig-rsa'),
      dataPath: file('data'),
    });
    expect(verify.output).toContain('Verified OK');
  });

  it('--sign RSA-PKCS-PSS (SHA-256, MGF1-SHA256, 32-byte salt) verifies with openssl', async () => {
    await writeFile(file('digest'), createHash('sha256').update('pss through p11-kit').digest());
    const result = await tool(
      ...[
        '--login',
        '--pin',
        USER_PIN,
        '--sign',
        '-m',
        'RSA-PKCS-PSS',
        '--hash-algorithm',
        'SHA256',
        '--mgf',
        'MGF1-SHA256',
      ],
      ...['--salt-len', '32', '--id', idOf(0), '-i', file('digest'), '-o', file('sig-pss')],
    );
    expect(result.code, result.output).toBe(0);
    const verify = await runClient(served.socketPath, 'openssl', [
      ...['pkeyutl', '-verify', '-pubin', '-inkey', await pemOf(0), '-in', file('digest'), '-sigfile', file('sig-pss')],
      ...['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:32', '-pkeyopt', 'digest:sha256'],
    ]);
    expect(verify.output).toContain('Signature Verified Successfully');
  });

  it('--sign ECDSA with the PIN-always 9C key (CKA_ALWAYS_AUTHENTICATE, CKU_CONTEXT_SPECIFIC) verifies with openssl', async () => {
    const attributes = await tool('--login', '--pin', USER_PIN, '-O', '--type', 'privkey', '--id', idOf(1));
    expect(attributes.output).toMatch(/Access:\s+.*always authenticate/);
    await writeFile(file('digest-ec'), createHash('sha256').update('ecdsa through p11-kit').digest());
    const result = await tool(
      ...['--login', '--pin', USER_PIN, '--sign', '-m', 'ECDSA', '--id', idOf(1)],
      ...['--signature-format', 'openssl', '-i', file('digest-ec'), '-o', file('sig-ec')],
    );
    expect(result.code, result.output).toBe(0);
    const verify = await runClient(served.socketPath, 'openssl', [
      ...[
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        await pemOf(1),
        '-in',
        file('digest-ec'),
        '-sigfile',
        file('sig-ec'),
      ],
    ]);
    expect(verify.output).toContain('Signature Verified Successfully');
  });

  it('--decrypt RSA-PKCS and RSA-PKCS-OAEP (SHA-256) give back what openssl encrypted', async () => {
    const key = keys.find((candidate) => candidate.container === 0) as Key;
    const secret = Buffer.from('a secret for the card');
    await writeFile(
      file('ct-pkcs1'),
      publicEncrypt({ key: key.publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, secret),
    );
    const pkcs1 = await tool(
      '--login',
      '--pin',
      USER_PIN,
      '--decrypt',
      '-m',
      'RSA-PKCS',
      '--id',
      idOf(0),
      '-i',
      file('ct-pkcs1'),
      '-o',
      file('pt-pkcs1'),
    );
    expect(pkcs1.code, pkcs1.output).toBe(0);
    expect(await readFile(file('pt-pkcs1'))).toEqual(secret);
    await writeFile(
      file('ct-oaep'),
      publicEncrypt(
        { key: key.publicKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        secret,
      ),
    );
    const oaep = await tool(
      ...[
        '--login',
        '--pin',
        USER_PIN,
        '--decrypt',
        '-m',
        'RSA-PKCS-OAEP',
        '--hash-algorithm',
        'SHA256',
        '--mgf',
        'MGF1-SHA256',
      ],
      ...['--id', idOf(0), '-i', file('ct-oaep'), '-o', file('pt-oaep')],
    );
    expect(oaep.code, oaep.output).toBe(0);
    expect(await readFile(file('pt-oaep'))).toEqual(secret);
  });

  it('pkcs11-tool --derive stops in p11-kit-client.so 0.24: it does not serialize CKM_ECDH1_DERIVE', async () => {
    const calls: string[] = [];
    served.server.setTrace((call) => calls.push(call));
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(file('peer.der'), peer.publicKey.export({ type: 'spki', format: 'der' }));
    const result = await tool(
      '--login',
      '--pin',
      USER_PIN,
      '--derive',
      '-m',
      'ECDH1-DERIVE',
      '--id',
      idOf(2),
      '-i',
      file('peer.der'),
      '-o',
      file('secret'),
    );
    served.server.setTrace(undefined);
    // The client refuses the mechanism itself: the request never reaches the server.
    expect(result.output).toContain('C_DeriveKey failed: rv = CKR_MECHANISM_INVALID');
    expect(calls).not.toContain('C_DeriveKey');
  });

  it('C_DeriveKey with CKM_ECDH1_DERIVE as p11-kit encodes it: the secret matches node:crypto ECDH', async () => {
    const key = keys.find((candidate) => candidate.container === 2) as Key;
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = peer.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x as string, 'base64url'),
      Buffer.from(jwk.y as string, 'base64url'),
    ]);
    const client = await RpcTestClient.open(served.socketPath);
    try {
      const [slot] = ulongArray((await client.call('C_GetSlotList', (w) => w.byte(1).uint32(8))).reader);
      const session = (
        await client.call('C_OpenSession', (w) => w.uint64(slot as number).uint64(CKF_SESSION.SERIAL_SESSION))
      ).reader.uint64();
      expect(
        (await client.call('C_Login', (w) => bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from(USER_PIN))))
          .rv,
      ).toBe(0);
      const template = [
        { type: CKA.CLASS, value: CKO.PRIVATE_KEY },
        { type: CKA.ID, value: new Uint8Array(Buffer.from(key.id, 'hex')) },
      ];
      await client.call('C_FindObjectsInit', (w) => templateArgument(w.uint64(session), template));
      const [handle] = ulongArray((await client.call('C_FindObjects', (w) => w.uint64(session).uint32(4))).reader);
      await client.call('C_FindObjectsFinal', (w) => w.uint64(session));
      const derive = await client.call('C_DeriveKey', (w) => {
        // CK_MECHANISM: type, then CK_ECDH1_DERIVE_PARAMS (kdf, shared data, public data).
        w.uint64(session).uint32(CKM.ECDH1_DERIVE).uint64(CKD_NULL).byteArray(null).byteArray(point);
        w.uint64(handle as number);
        templateArgument(w, [{ type: CKA.CLASS, value: CKO.SECRET_KEY }]);
      });
      expect(derive.rv).toBe(0);
      const secretHandle = derive.reader.uint64();
      const value = await client.call('C_GetAttributeValue', (w) =>
        w.uint64(session).uint64(secretHandle).uint32(1).uint32(CKA.VALUE).uint32(256),
      );
      const [attribute] = attributeArray(value.reader);
      expect(Buffer.from(attribute?.value as Uint8Array)).toEqual(
        diffieHellman({ privateKey: peer.privateKey, publicKey: key.publicKey }),
      );
    } finally {
      client.close();
    }
  });

  it('--keypairgen (as SO: the management key) makes a key in container 3, and --write-object stores its certificate', async () => {
    const so = ['--login', '--login-type', 'so', '--so-pin', PIV_MANAGEMENT_KEY];
    const generated = await tool(
      ...so,
      '--keypairgen',
      '--key-type',
      'EC:prime256v1',
      '--id',
      '03',
      '--label',
      'generated',
    );
    expect(generated.code, generated.output).toBe(0);
    expect(generated.output).toContain('Key pair generated');
    const token = served.store.tokens[0] as NonNullable<(typeof served.store.tokens)[0]>;
    const key = (await token.keys()).find((candidate) => candidate.container === 3) as Key;
    expect(key.algorithm).toMatchObject({ type: 'ec', curve: 'P-256' });
    expect(generated.output).toContain(key.id);
    // A certificate for it from a throwaway CA, written through C_CreateObject.
    await writeCertificateWithTool(tool, token, key, so, file('cert.der'), 'written through pkcs11-tool');
    const listed = await tool('-O', '--type', 'cert');
    expect(listed.output).toContain('written through pkcs11-tool');
  });

  it('a wrong PIN is CKR_PIN_INCORRECT and the token flags report the retries left; the right PIN resets them', async () => {
    const wrong = await tool('--login', '--pin', '000000', '-O');
    expect(wrong.output).toContain('CKR_PIN_INCORRECT');
    expect((await tool('-L')).output).toMatch(/token flags\s+:.*user PIN count low/);
    await tool('--login', '--pin', '000001', '-O');
    expect((await tool('-L')).output).toMatch(/token flags\s+:.*final user PIN try/);
    const right = await tool('--login', '--pin', USER_PIN, '-O');
    expect(right.code, right.output).toBe(0);
    expect((await tool('-L')).output).not.toMatch(/count low|final user PIN try/);
  });

  it('removal: the slot stays with no token (CKR_DEVICE_REMOVED for open sessions); reinsertion brings the token back', async (context) => {
    const vpcd = served.vpcd;
    if (vpcd === undefined) return context.skip(); // in process (PKCS11_IN_PROCESS=1) there is no reader to empty
    const client = await RpcTestClient.open(served.socketPath);
    try {
      const session = (
        await client.call('C_OpenSession', (w) => w.uint64(1).uint64(CKF_SESSION.SERIAL_SESSION))
      ).reader.uint64();
      await vpcd.eject();
      await waitFor(() => served.store.tokens.length === 0, 'the token to leave');
      expect((await client.call('C_GetSessionInfo', (w) => w.uint64(session))).rv).toBe(CKR.DEVICE_REMOVED);
      const empty = await tool('-L');
      expect(empty.output).toMatch(
        /Slot 0 \(0x1\): Virtual PCD 00 01\s+\(token not recognized\)|Slot 0 \(0x1\): Virtual PCD 00 01\s+\(empty\)/,
      );
      const present = await client.call('C_GetSlotList', (w) => w.byte(1).uint32(8));
      expect(ulongArray(present.reader)).toEqual([]);
      await vpcd.insert();
      await waitFor(() => served.store.tokens.length === 1, 'the token to come back');
      expect((await tool('-L')).output).toMatch(/token model\s+: PIV/);
    } finally {
      client.close();
    }
  });

  it('--change-pin changes the user PIN (C_SetPIN); the new PIN logs in, the old one no longer does', async () => {
    const changed = await tool('--login', '--pin', USER_PIN, '--change-pin', '--new-pin', '24681357');
    expect(changed.code, changed.output).toBe(0);
    expect((await tool('--login', '--pin', '24681357', '-O')).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).output).toContain('CKR_PIN_INCORRECT');
    const back = await tool('--login', '--pin', '24681357', '--change-pin', '--new-pin', USER_PIN);
    expect(back.code, back.output).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });
});
