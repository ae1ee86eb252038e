/**
 * The programs people use, through p11-kit-client.so and our server, on the PIV simulator in pcscd:
 * `ssh-keygen -D` prints the card's public keys; an OpenSSH client logs in to a loopback sshd (started
 * here: 127.0.0.1, a free port, key-only authentication, its own configuration and host key in a temp
 * directory) with the card's RSA key; OpenSSL signs through libp11's engine with a pkcs11: URI; GnuTLS's
 * p11tool lists the objects.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PivSimulator } from '@minidriver/card-piv/sim';
import type { Key } from '@minidriver/keystore';
import { opensslVerify } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProvisioned, PIV_MANAGEMENT_KEY, type ServedCard, USER_PIN } from './card-support.js';
import { describeWithClient, P11_KIT_CLIENT, runClient } from './client-support.js';

const ENGINE = '/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so';

/** The OpenSSH public key line of a key (RFC 4253 §6.6, RFC 5656 §3.1). */
function opensshPublicKey(publicKey: KeyObject): string {
  const string = (bytes: Uint8Array | string) => {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, data]);
  };
  const mpint = (base64url: string) => {
    const magnitude = Buffer.from(base64url, 'base64url');
    return string(
      magnitude[0] !== undefined && magnitude[0] & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude,
    );
  };
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    return `ssh-rsa ${Buffer.concat([string('ssh-rsa'), mpint(jwk.e as string), mpint(jwk.n as string)]).toString('base64')}`;
  }
  const point = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x as string, 'base64url'),
    Buffer.from(jwk.y as string, 'base64url'),
  ]);
  const blob = Buffer.concat([string('ecdsa-sha2-nistp256'), string('nistp256'), string(point)]);
  return `ecdsa-sha2-nistp256 ${blob.toString('base64')}`;
}

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describeWithClient(
  ['pcscd', 'ssh-keygen', 'ssh', 'sshd', 'openssl', 'p11tool'],
  'ssh, OpenSSL and GnuTLS through our p11-kit server',
  () => {
    let served: ServedCard;
    let keys: Key[];
    const file = (name: string) => join(served.directory, name);

    beforeAll(async () => {
      ({ served, keys } = await openProvisioned(
        new PivSimulator({ seed: 'pkcs11-server clients' }),
        PIV_MANAGEMENT_KEY,
        [
          { container: 0, algorithm: 'rsa2048', certificate: true },
          { container: 3, algorithm: 'p256', certificate: true },
        ],
      ));
    }, 400_000);

    afterAll(async () => {
      await served?.close();
    });

    it('ssh-keygen -D prints the public key of every key on the card', async () => {
      const result = await runClient(served.socketPath, 'ssh-keygen', ['-D', P11_KIT_CLIENT]);
      expect(result.code, result.output).toBe(0);
      for (const key of keys) expect(result.stdout).toContain(opensshPublicKey(key.publicKey));
    });

    it('ssh logs in to a loopback sshd (key-only auth) with the RSA key on the card', async () => {
      const rsa = keys.find((key) => key.algorithm.type === 'rsa') as Key;
      const directory = file('sshd');
      await mkdir(directory, { mode: 0o700 });
      // sshd wants its privilege separation directory; on a fresh machine nobody made it yet.
      await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
      const hostKey = await runClient(served.socketPath, 'ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-f',
        join(directory, 'host_key'),
      ]);
      expect(hostKey.code, hostKey.output).toBe(0);
      await writeFile(join(directory, 'authorized_keys'), `${opensshPublicKey(rsa.publicKey)} card\n`, { mode: 0o600 });
      const port = await freePort();
      await writeFile(
        join(directory, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${join(directory, 'host_key')}`,
          `AuthorizedKeysFile ${join(directory, 'authorized_keys')}`,
          `PidFile ${join(directory, 'sshd.pid')}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'UsePAM no',
          'StrictModes no',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      const askpass = join(directory, 'askpass');
      await writeFile(askpass, `#!/bin/sh\necho ${USER_PIN}\n`);
      await chmod(askpass, 0o700);
      const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(directory, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let sshdLog = '';
      sshd.stderr?.on('data', (chunk) => {
        sshdLog += chunk;
      });
      try {
        for (let attempt = 0; attempt < 50 && !sshdLog.includes('Server listening'); attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(sshdLog).toContain(`Server listening on 127.0.0.1 port ${port}`);
        const user = (await runClient(served.socketPath, 'id', ['-un'])).stdout.trim();
        const login = await runClient(
          served.socketPath,
          'ssh',
          [
            ...[
              '-v',
              '-F',
              '/dev/null',
              '-p',
              String(port),
              '-o',
              'StrictHostKeyChecking=no',
              '-o',
              'UserKnownHostsFile=/dev/null',
            ],
            ...[
              '-o',
              `PKCS11Provider=${P11_KIT_CLIENT}`,
              '-o',
              'IdentityAgent=none',
              '-o',
              'PasswordAuthentication=no',
            ],
            `${user}@127.0.0.1`,
            'echo logged in with the card',
          ],
          { env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } },
        );
        expect(login.output, sshdLog).toContain('logged in with the card');
        expect(sshdLog).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
      } finally {
        sshd.kill('SIGTERM');
      }
    });

    it('OpenSSL signs through libp11 (engine pkcs11) with a pkcs11: URI; openssl verifies it', async () => {
      if (!existsSync(ENGINE)) throw new Error(`needs ${ENGINE} (libengine-pkcs11-openssl)`);
      const ec = keys.find((key) => key.algorithm.type === 'ec') as Key;
      const config = file('openssl.cnf');
      await writeFile(
        config,
        [
          'openssl_conf = openssl_init',
          '[openssl_init]',
          'engines = engine_section',
          '[engine_section]',
          'pkcs11 = pkcs11_section',
          '[pkcs11_section]',
          'engine_id = pkcs11',
          `dynamic_path = ${ENGINE}`,
          `MODULE_PATH = ${P11_KIT_CLIENT}`,
          'init = 0',
          '',
        ].join('\n'),
      );
      await writeFile(file('message'), 'signed by OpenSSL through the pkcs11 engine');
      await writeFile(file('ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }) as string);
      // RFC 7512: the key by its CKA_ID, percent-encoded byte by byte, and the PIN in the URI.
      const idUri = `pkcs11:id=${ec.id.replace(/(..)/g, '%$1')};type=private;pin-value=${USER_PIN}`;
      const signed = await runClient(
        served.socketPath,
        'openssl',
        [
          'dgst',
          '-sha256',
          '-engine',
          'pkcs11',
          '-keyform',
          'engine',
          '-sign',
          idUri,
          '-out',
          file('message.sig'),
          file('message'),
        ],
        { env: { OPENSSL_CONF: config } },
      );
      expect(signed.code, signed.output).toBe(0);
      const verify = await opensslVerify({
        digest: 'sha256',
        publicKeyPath: file('ec.pem'),
        signaturePath: file('message.sig'),
        dataPath: file('message'),
      });
      expect(verify.output).toContain('Verified OK');
    });

    it('p11tool --list-all lists the certificates and keys', async () => {
      const result = await runClient(served.socketPath, 'p11tool', [
        '--provider',
        P11_KIT_CLIENT,
        '--list-all',
        'pkcs11:',
      ]);
      expect(result.code, result.output).toBe(0);
      expect(result.output.match(/Type: X\.509 Certificate/g)?.length).toBe(2);
      expect(result.output.match(/Type: Public key/g)?.length).toBe(2);
      for (const key of keys) expect(result.output).toContain(`ID: ${key.id.replace(/(..)(?!$)/g, '$1:')}`);
    });
  },
);
