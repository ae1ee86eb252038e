/**
 * p11-kit 0.25's client module (built from Debian's source by .ci/p11-kit-client) against our server, cards
 * served into pcscd through vpcd: it negotiates RPC protocol version 1 and sends what 0.24 refuses to —
 * `pkcs11-tool --derive` (CKM_ECDH1_DERIVE) gives node:crypto's shared secret on PIV, OpenPGP and GIDS,
 * and the hashed ECDSA mechanisms sign.
 */
import { diffieHellman, generateKeyPairSync, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GidsSimulator } from '@minidriver/card-gids/sim';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import type { Key } from '@minidriver/keystore';
import type { SimulatedCard } from '@minidriver/sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  OPENPGP_ADMIN_PIN,
  openProvisioned,
  PIV_MANAGEMENT_KEY,
  type PlannedKey,
  type ProvisionOptions,
  type ServedCard,
  USER_PIN,
} from './card-support.js';
import { describeWithClient, P11_KIT_025_CLIENT, P11_KIT_CLIENT, pkcs11Tool, pkcs11Tool025 } from './client-support.js';

const TOOLS = ['pcscd', 'pkcs11-tool', 'openssl'];
const MODULES = [P11_KIT_025_CLIENT, P11_KIT_CLIENT];

/** Serves a provisioned card for the suite; `use` gets it once it is served. */
function servedSuite(
  card: () => SimulatedCard,
  admin: string,
  plan: readonly PlannedKey[],
  options: ProvisionOptions = {},
): { served: () => ServedCard; key: (container: number) => Key; file: (name: string) => string } {
  let served: ServedCard | undefined;
  let keys: Key[] = [];
  beforeAll(async () => {
    ({ served, keys } = await openProvisioned(card(), admin, plan, options));
  }, 400_000);
  afterAll(async () => {
    await served?.close();
  });
  return {
    served: () => served as ServedCard,
    key: (container) => keys.find((key) => key.container === container) as Key,
    file: (name) => join((served as ServedCard).directory, name),
  };
}

/** `pkcs11-tool --derive` with the key of `container` and a fresh node:crypto peer; the secret must be node's. */
async function deriveMatchesNode(
  suite: ReturnType<typeof servedSuite>,
  container: number,
  curve: 'P-256' | 'P-384',
): Promise<void> {
  const key = suite.key(container);
  const peer = generateKeyPairSync('ec', { namedCurve: curve });
  await writeFile(suite.file(`peer-${container}.der`), peer.publicKey.export({ type: 'spki', format: 'der' }));
  const calls: string[] = [];
  suite.served().server.setTrace((call) => calls.push(call));
  const result = await pkcs11Tool025(
    suite.served().socketPath,
    ...['--login', '--pin', USER_PIN, '--derive', '-m', 'ECDH1-DERIVE', '--id', key.id],
    ...['-i', suite.file(`peer-${container}.der`), '-o', suite.file(`secret-${container}`)],
  );
  suite.served().server.setTrace(undefined);
  expect(result.code, result.output).toBe(0);
  expect(calls).toContain('C_DeriveKey');
  const expected = diffieHellman({ privateKey: peer.privateKey, publicKey: key.publicKey });
  expect(await readFile(suite.file(`secret-${container}`))).toEqual(expected);
}

describeWithClient(
  TOOLS,
  'p11-kit 0.25 client: PIV card (pcscd + vpcd)',
  () => {
    const suite = servedSuite(() => new PivSimulator({ seed: 'pkcs11-server p11-kit 0.25' }), PIV_MANAGEMENT_KEY, [
      { container: 0, algorithm: 'p384', usage: 'sign', certificate: false }, // 9A
      { container: 2, algorithm: 'p256', usage: 'derive', certificate: false }, // 9D: ECDH
    ]);

    it('negotiates protocol version 1 (0.24: version 0) and lists the token (-L)', async () => {
      const calls: string[] = [];
      suite.served().server.setTrace((call) => calls.push(call));
      const result = await pkcs11Tool025(suite.served().socketPath, '-L');
      const old = await pkcs11Tool(suite.served().socketPath, '-L');
      suite.served().server.setTrace(undefined);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toMatch(/token model\s+: PIV/);
      expect(old.output).toMatch(/token model\s+: PIV/);
      expect(calls.filter((call) => call.startsWith('RPC protocol'))).toEqual([
        'RPC protocol version 1',
        'RPC protocol version 0',
      ]);
    });

    it("--init-token comes as version 1's C_InitToken2, refused (CKR_FUNCTION_NOT_SUPPORTED)", async () => {
      const calls: string[] = [];
      suite.served().server.setTrace((call) => calls.push(call));
      const result = await pkcs11Tool025(
        suite.served().socketPath,
        ...['--init-token', '--label', 'wiped', '--so-pin', '12345678'],
      );
      suite.served().server.setTrace(undefined);
      expect(result.output).toContain('CKR_FUNCTION_NOT_SUPPORTED');
      expect(calls).toContain('C_InitToken2');
    });

    it('--derive ECDH1-DERIVE with the 9D P-256 key gives the secret node:crypto computes', async () => {
      await deriveMatchesNode(suite, 2, 'P-256');
    });

    it('--sign -m ECDSA-SHA384 (refused by the 0.24 client) verifies with node:crypto', async () => {
      const data = Buffer.from('hashed ECDSA through p11-kit 0.25');
      await writeFile(suite.file('data'), data);
      const result = await pkcs11Tool025(
        suite.served().socketPath,
        ...['--login', '--pin', USER_PIN, '--sign', '-m', 'ECDSA-SHA384', '--id', suite.key(0).id],
        ...['--signature-format', 'openssl', '-i', suite.file('data'), '-o', suite.file('sig')],
      );
      expect(result.code, result.output).toBe(0);
      const signature = await readFile(suite.file('sig'));
      expect(verify('sha384', data, suite.key(0).publicKey, signature)).toBe(true);
    });
  },
  120_000,
  MODULES,
);

describeWithClient(
  TOOLS,
  'p11-kit 0.25 client: OpenPGP card (pcscd + vpcd)',
  () => {
    const suite = servedSuite(() => new OpenPgpSimulator(), OPENPGP_ADMIN_PIN, [
      { container: 1, algorithm: 'p256', certificate: false }, // the decryption key: ECDH on an EC card
    ]);

    it('--derive ECDH1-DERIVE with the P-256 decryption key gives the secret node:crypto computes', async () => {
      await deriveMatchesNode(suite, 1, 'P-256');
    });
  },
  120_000,
  MODULES,
);

describeWithClient(
  TOOLS,
  'p11-kit 0.25 client: GIDS card (pcscd + vpcd)',
  () => {
    const suite = servedSuite(
      () => new GidsSimulator({ pin: USER_PIN }),
      PIV_MANAGEMENT_KEY, // the GIDS simulator's default admin key is the same 3DES key
      [{ container: 0, algorithm: 'p256', usage: 'derive', certificate: false }],
      { userWrites: true },
    );

    it('--derive ECDH1-DERIVE with a P-256 key gives the secret node:crypto computes', async () => {
      await deriveMatchesNode(suite, 0, 'P-256');
    });
  },
  120_000,
  MODULES,
);
