/**
 * The OpenPGP simulator through our server and p11-kit-client.so, served into pcscd through vpcd: the
 * same PKCS #11 view as any other card — a slot, its keys as objects, signing verified by openssl,
 * decryption.
 */
import { constants as cryptoConstants, publicEncrypt } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import type { Key } from '@minidriver/keystore';
import { opensslVerify } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OPENPGP_ADMIN_PIN, openProvisioned, type ServedCard, USER_PIN } from './card-support.js';
import { describeWithClient, pkcs11Tool } from './client-support.js';

describeWithClient(
  ['pcscd', 'pkcs11-tool', 'openssl'],
  'OpenPGP card through our p11-kit server (pcscd + vpcd)',
  () => {
    let served: ServedCard;
    let keys: Key[];
    const file = (name: string) => join(served.directory, name);
    const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
    const keyIn = (container: number) => keys.find((key) => key.container === container) as Key;

    beforeAll(async () => {
      ({ served, keys } = await openProvisioned(new OpenPgpSimulator(), OPENPGP_ADMIN_PIN, [
        { container: 0, algorithm: 'rsa2048', certificate: false }, // signature key
        { container: 1, algorithm: 'rsa2048', certificate: false }, // decryption key
        { container: 2, algorithm: 'p256', certificate: false }, // authentication key
      ]));
    }, 400_000);

    afterAll(async () => {
      await served?.close();
    });

    it('-L and -O: the OpenPGP token and its three keys', async () => {
      expect((await tool('-L')).output).toMatch(/token model\s+: OpenPGP/);
      const objects = await tool('--login', '--pin', USER_PIN, '-O');
      expect(objects.output.match(/Private Key Object/g)?.length).toBe(3);
      for (const key of keys) expect(objects.output).toContain(key.id);
    });

    it('signs with the signature key (SHA256-RSA-PKCS) and the authentication key (ECDSA); openssl verifies', async () => {
      await writeFile(file('data'), 'OpenPGP card through p11-kit');
      await writeFile(file('sig.pem'), keyIn(0).publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const rsa = await tool(
        '--login',
        '--pin',
        USER_PIN,
        '--sign',
        '-m',
        'SHA256-RSA-PKCS',
        '--id',
        keyIn(0).id,
        '-i',
        file('data'),
        '-o',
        file('rsa.sig'),
      );
      expect(rsa.code, rsa.output).toBe(0);
      expect(
        (
          await opensslVerify({
            digest: 'sha256',
            publicKeyPath: file('sig.pem'),
            signaturePath: file('rsa.sig'),
            dataPath: file('data'),
          })
        ).output,
      ).toContain('Verified OK');
      await writeFile(file('auth.pem'), keyIn(2).publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const ec = await tool(
        ...[
          '--login',
          '--pin',
          USER_PIN,
          '--sign',
          '-m',
          'ECDSA-SHA1',
          '--signature-format',
          'openssl',
          '--id',
          keyIn(2).id,
        ],
        ...['-i', file('data'), '-o', file('ec.sig')],
      );
      expect(ec.code, ec.output).toBe(0);
      expect(
        (
          await opensslVerify({
            digest: 'sha1',
            publicKeyPath: file('auth.pem'),
            signaturePath: file('ec.sig'),
            dataPath: file('data'),
          })
        ).output,
      ).toContain('Verified OK');
    });

    it('decrypts with the decryption key (RSA-PKCS)', async () => {
      const secret = Buffer.from('for the OpenPGP card');
      await writeFile(
        file('ct'),
        publicEncrypt({ key: keyIn(1).publicKey, padding: cryptoConstants.RSA_PKCS1_PADDING }, secret),
      );
      const result = await tool(
        '--login',
        '--pin',
        USER_PIN,
        '--decrypt',
        '-m',
        'RSA-PKCS',
        '--id',
        keyIn(1).id,
        '-i',
        file('ct'),
        '-o',
        file('pt'),
      );
      expect(result.code, result.output).toBe(0);
      expect(await readFile(file('pt'))).toEqual(secret);
    });
  },
);
