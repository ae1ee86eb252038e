/**
 * `minidriver pkcs11 serve --reader` on the simulated PIV card served into pcscd by `minidriver sim serve`
 * (reader "Virtual PCD 00 01", port 35964): pkcs11-tool writes a certificate through p11-kit-client.so
 * (C_CreateObject), and `minidriver certs` reads it back from the card.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificate } from '@minidriver/core';
import { acquireVpcdPortLock } from '@minidriver/sim';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pkcs11Tool, type ServeProcess, socketOf, startServe } from './pkcs11-serve-support.js';
import { BIN, ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

const READER = 'Virtual PCD 00 01';
const PIN = '123456';
const MANAGEMENT_KEY = '010203040506070801020304050607080102030405060708';

describeWithTools(['pcscd', 'pkcs11-tool'], 'minidriver pkcs11 serve through pcscd + vpcd', () => {
  let stateDirectory: string;
  let releaseLock: (() => void) | undefined;
  let card: ChildProcess | undefined;
  let serve: ServeProcess | undefined;
  let probe = '';

  beforeAll(async () => {
    ensureBuilt();
    stateDirectory = temporaryStateDirectory();
    const keygen = await runCli(
      [
        ...['--sim', 'piv', 'keygen', '--container', '0', '--alg', 'rsa2048', '--admin-key', 'default'],
        '--out',
        join(stateDirectory, 'pub.pem'),
      ],
      { stateDirectory },
    );
    expect(keygen.status, keygen.stderr).toBe(0);
    releaseLock = await acquireVpcdPortLock(35964);
    card = spawn(process.execPath, [BIN, 'sim', 'serve', 'piv', '--vpcd', '127.0.0.1:35964'], {
      env: { ...process.env, NO_COLOR: '1', MINIDRIVER_STATE_DIR: stateDirectory },
      stdio: 'ignore',
    });
    // The card must be in the reader before the key store looks.
    for (let attempt = 0; attempt < 100; attempt++) {
      const readers = await runCli(['readers', '--json'], { stateDirectory });
      const listing = JSON.parse(readers.stdout || '{}') as { readers?: { name: string; cardPresent: boolean }[] };
      if (listing.readers?.some((reader) => reader.name === READER && reader.cardPresent)) break;
      await sleep(200);
    }
    probe = (await runCli(['readers', '--json'], { stateDirectory })).stdout;
    serve = await startServe(
      ['pkcs11', 'serve', '--reader', READER, '--socket', join(stateDirectory, 'pkcs11')],
      stateDirectory,
    );
  }, 400_000);

  afterAll(async () => {
    await serve?.stop();
    card?.kill('SIGTERM');
    await sleep(300);
    releaseLock?.();
  });

  it('pkcs11-tool --write-object stores a certificate that minidriver certs reads back', async () => {
    const socketPath = socketOf(serve?.exportLine ?? '');
    // The server follows the reader: its token shows as soon as the key store has opened the card.
    let listed = await pkcs11Tool(socketPath, '-L');
    for (let attempt = 0; attempt < 40 && !listed.output.includes('token model'); attempt++) {
      await sleep(500);
      listed = await pkcs11Tool(socketPath, '-L');
    }
    expect(listed.output, `${serve?.output()}\n${probe}`).toMatch(/Virtual PCD 00 01/);
    const publicKey = createPublicKey(readFileSync(join(stateDirectory, 'pub.pem')));
    const id = createHash('sha1')
      .update(publicKey.export({ type: 'pkcs1', format: 'der' }))
      .digest('hex');
    const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = await createCertificate({
      publicKey,
      commonName: 'written through p11-kit',
      issuer: { commonName: 'test CA', publicKey: ca.publicKey },
      sign: async (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
    });
    writeFileSync(join(stateDirectory, 'cert.der'), der);
    const written = await pkcs11Tool(
      socketPath,
      ...[
        '--login',
        '--login-type',
        'so',
        '--so-pin',
        MANAGEMENT_KEY,
        '--write-object',
        join(stateDirectory, 'cert.der'),
      ],
      ...['--type', 'cert', '--id', id],
    );
    expect(written.code, written.output).toBe(0);
    const certs = await runCli(['certs', '--reader', READER, '--json'], { stateDirectory });
    expect(certs.status, certs.stderr).toBe(0);
    expect(certs.stdout).toContain(createHash('sha256').update(der).digest('hex'));
    expect(certs.stdout).toContain('written through p11-kit');
    const signed = await pkcs11Tool(
      socketPath,
      '--login',
      '--pin',
      PIN,
      '--sign',
      '-m',
      'SHA256-RSA-PKCS',
      '--id',
      id,
      '-i',
      join(stateDirectory, 'cert.der'),
      '-o',
      join(stateDirectory, 'sig'),
    );
    expect(signed.code, signed.output).toBe(0);
  }, 120_000);
});
