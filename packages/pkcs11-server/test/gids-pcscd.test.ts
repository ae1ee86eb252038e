/**
 * The GIDS simulator through our server and p11-kit-client.so, served into pcscd through vpcd (as
 * `minidriver sim serve gids` does): the slot and token (-L), its keys as objects (-O), signing after
 * C_Login verified by openssl (RSA PKCS #1 and ECDSA), key pair generation and the certificate written for
 * the new key (GIDS guards both with the user PIN: the user does them, the SO alone cannot).
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GidsSimulator } from '@minidriver/card-gids/sim';
import type { Key, Token } from '@minidriver/keystore';
import { opensslVerify } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProvisioned, type ServedCard, USER_PIN, writeCertificateWithTool } from './card-support.js';
import { describeWithClient, pkcs11Tool, runClient } from './client-support.js';

/** The GIDS simulator's default admin key (3DES, 0102030405060708 three times), as C_Login(CKU_SO) takes it: hex. */
const GIDS_ADMIN_KEY = '010203040506070801020304050607080102030405060708';

describeWithClient(['pcscd', 'pkcs11-tool', 'openssl'], 'GIDS card through our p11-kit server (pcscd + vpcd)', () => {
  let served: ServedCard;
  let keys: Key[];
  const file = (name: string) => join(served.directory, name);
  const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
  const keyIn = (container: number) => keys.find((key) => key.container === container) as Key;
  const pemOf = async (key: Key, name: string) => {
    await writeFile(file(name), key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    return file(name);
  };
  const openssl = (...args: string[]) => runClient(served.socketPath, 'openssl', args);

  beforeAll(async () => {
    ({ served, keys } = await openProvisioned(
      new GidsSimulator({ pin: USER_PIN }),
      GIDS_ADMIN_KEY,
      [
        { container: 0, algorithm: 'rsa2048', usage: 'sign', certificate: true },
        { container: 1, algorithm: 'p256', usage: 'sign', certificate: false },
      ],
      { userWrites: true },
    ));
  }, 400_000);

  afterAll(async () => {
    await served?.close();
  });

  it('-L lists the reader as a slot with the GIDS token', async () => {
    const result = await tool('-L');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Slot 0 \(0x1\): (Virtual PCD 00 01|Simulated GIDS)/);
    expect(result.output).toMatch(/token model\s+: GIDS/);
    expect(result.output).toMatch(/token flags\s+: login required, .*token initialized, PIN initialized/);
  });

  it('-O lists the keys (private ones after C_Login) and the certificate, with matching CKA_ID', async () => {
    expect((await tool('-O')).output).not.toContain('Private Key Object');
    const result = await tool('--login', '--pin', USER_PIN, '-O');
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/Private Key Object/g)?.length).toBe(2);
    expect(result.output.match(/Public Key Object/g)?.length).toBe(2);
    expect(result.output.match(/Certificate Object/g)?.length).toBe(1);
    for (const key of keys) expect(result.output.match(new RegExp(`ID:\\s+${key.id}`, 'g'))?.length).toBeGreaterThan(1);
    expect(result.output).toContain('Public Key Object; RSA 2048 bits');
    expect(result.output).toContain('Public Key Object; EC');
  });

  it('--login --sign SHA256-RSA-PKCS and ECDSA verify with openssl', async () => {
    await writeFile(file('data'), 'GIDS through p11-kit-client.so');
    const rsa = await tool(
      ...['--login', '--pin', USER_PIN, '--sign', '-m', 'SHA256-RSA-PKCS', '--id', keyIn(0).id],
      ...['-i', file('data'), '-o', file('rsa.sig')],
    );
    expect(rsa.code, rsa.output).toBe(0);
    const rsaPem = await pemOf(keyIn(0), 'rsa.pem');
    expect(
      (
        await opensslVerify({
          digest: 'sha256',
          publicKeyPath: rsaPem,
          signaturePath: file('rsa.sig'),
          dataPath: file('data'),
        })
      ).output,
    ).toContain('Verified OK');
    await writeFile(file('digest'), createHash('sha256').update('GIDS ECDSA').digest());
    const ec = await tool(
      ...['--login', '--pin', USER_PIN, '--sign', '-m', 'ECDSA', '--id', keyIn(1).id],
      ...['--signature-format', 'openssl', '-i', file('digest'), '-o', file('ec.sig')],
    );
    expect(ec.code, ec.output).toBe(0);
    const ecPem = await pemOf(keyIn(1), 'ec.pem');
    const verified = await openssl(
      ...['pkeyutl', '-verify', '-pubin', '-inkey', ecPem, '-in', file('digest'), '-sigfile', file('ec.sig')],
    );
    expect(verified.output).toContain('Signature Verified Successfully');
  });

  it('a wrong PIN is CKR_PIN_INCORRECT with the retries in the token flags', async () => {
    expect((await tool('--login', '--pin', '000000', '-O')).output).toContain('CKR_PIN_INCORRECT');
    expect((await tool('-L')).output).toMatch(/token flags\s+:.*user PIN count low/);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });

  it('--keypairgen as the user makes an EC key in container 2 (the SO alone cannot); --write-object stores its certificate', async () => {
    const so = ['--login', '--login-type', 'so', '--so-pin', GIDS_ADMIN_KEY];
    const refused = await tool(...so, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '02');
    expect(refused.output).toContain('CKR_USER_NOT_LOGGED_IN');
    const user = ['--login', '--pin', USER_PIN];
    const generated = await tool(...user, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '02');
    expect(generated.code, generated.output).toBe(0);
    expect(generated.output).toContain('Key pair generated');
    const token = served.store.tokens[0] as Token;
    const key = (await token.keys({ refresh: true })).find((candidate) => candidate.container === 2) as Key;
    expect(key.algorithm).toMatchObject({ type: 'ec', curve: 'P-256' });
    expect(generated.output).toContain(key.id);
    await writeCertificateWithTool(tool, token, key, user, file('cert.der'), 'GIDS key written through pkcs11-tool');
    // The new key signs through the server too.
    await writeFile(file('digest2'), createHash('sha256').update('new GIDS key').digest());
    const signed = await tool(
      ...['--login', '--pin', USER_PIN, '--sign', '-m', 'ECDSA', '--id', key.id],
      ...['--signature-format', 'openssl', '-i', file('digest2'), '-o', file('ec2.sig')],
    );
    expect(signed.code, signed.output).toBe(0);
    const pem = await pemOf(key, 'new.pem');
    const verified = await openssl(
      ...['pkeyutl', '-verify', '-pubin', '-inkey', pem, '-in', file('digest2'), '-sigfile', file('ec2.sig')],
    );
    expect(verified.output).toContain('Signature Verified Successfully');
  });
});
