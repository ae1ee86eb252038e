/**
 * Test support for the keystore tests (not exported): a loader over this package's dev dependencies (the
 * card plugins, by their TypeScript sources), the simulators' factory secrets, and provisioning of a
 * simulated card with keys through the key store itself.
 */
import { fileURLToPath } from 'node:url';
import { Loader } from '@minidriver/loader';
import type { KeyAlgorithmName, Token } from '../src/index.js';

/** The package directory: its package.json declares the card plugins as dev dependencies. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A loader reading this package's dependencies, importing plugins from source. */
export function testLoader(): Loader {
  return new Loader({ applicationRoot: PACKAGE_ROOT, conditions: ['source'], onWarning: () => undefined });
}

/** The factory PIN of both simulators. */
export const USER_PIN = '123456';
/** The factory admin secret of each plugin: the PIV management key (hex), OpenPGP PW3. */
export const ADMIN_SECRET: Readonly<Record<string, string>> = {
  PIV: '010203040506070801020304050607080102030405060708',
  OpenPGP: '12345678',
};

/** Keys to generate: container → algorithm (and usage when the default is not wanted). */
export type KeyPlan = readonly {
  container: number;
  algorithm: KeyAlgorithmName;
  usage?: 'sign' | 'decrypt' | 'derive';
  pin?: string;
}[];

/** Logs in as admin and generates the planned keys, then logs the admin out. */
export async function provision(token: Token, plan: KeyPlan): Promise<void> {
  await token.login('admin', ADMIN_SECRET[token.plugin.name] as string);
  for (const { container, algorithm, usage, pin } of plan) {
    await token.generateKey(container, algorithm, {
      ...(usage === undefined ? {} : { usage }),
      ...(pin === undefined ? {} : { pin }),
    });
  }
}

/** PIV (firmware 5.7: RSA up to 4096): every algorithm, in standard and retired slots. */
export const PIV_PLAN: KeyPlan = [
  { container: 0, algorithm: 'rsa2048' },
  { container: 1, algorithm: 'p256' },
  { container: 2, algorithm: 'p384' },
  { container: 3, algorithm: 'p384' },
  { container: 4, algorithm: 'rsa1024' },
  { container: 5, algorithm: 'rsa3072' },
  { container: 6, algorithm: 'rsa4096' },
  { container: 7, algorithm: 'p256' },
];

/** OpenPGP rounds (three slots each): every RSA size and curve the card generates. */
export const OPENPGP_PLANS: readonly KeyPlan[] = [
  [
    { container: 0, algorithm: 'rsa2048' },
    { container: 1, algorithm: 'rsa3072' },
    { container: 2, algorithm: 'rsa4096' },
  ],
  [
    { container: 0, algorithm: 'p256' },
    { container: 1, algorithm: 'p256' },
    { container: 2, algorithm: 'p384' },
  ],
  [
    { container: 0, algorithm: 'p521' },
    { container: 1, algorithm: 'p384' },
    { container: 2, algorithm: 'p521' },
  ],
  [{ container: 1, algorithm: 'p521' }],
];
