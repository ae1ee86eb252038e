/**
 * The minidriver conformance suite (@minidriver/conformance) run against the GIDS plugin and its simulator.
 * What the GIDS card is, declared honestly: the admin key unblocks the PIN (challenge/response: the caller
 * encrypts the 40-byte mutual-authentication block with 3DES-CBC, zero IV); containers are key files the user
 * PIN creates (RSA and ECC, generated or imported); files of any name are stored (the card's own file system);
 * cardcf lives on the card, so the cache mode is GLOBAL.
 */
import { createCipheriv } from 'node:crypto';
import { defineConformanceSuite } from '@minidriver/conformance';
import { KeySpec } from '@minidriver/spec';
import { DEFAULT_ADMIN_KEY, DEFAULT_PIN, GidsSimulator } from '../sim/index.js';
import { plugin } from './index.js';

/** The admin response: 3DES-CBC (zero IV) of the challenge under the admin key (minidriver docs/spec/minidriver.md §6.6, GIDS docs/spec/gids.md §4.4). */
function respond(challenge: Uint8Array): Uint8Array {
  const cipher = createCipheriv('des-ede3-cbc', DEFAULT_ADMIN_KEY, Buffer.alloc(8)).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
}

defineConformanceSuite({
  name: 'GIDS',
  plugin,
  createCard: () => new GidsSimulator(),
  credentials: {
    userPin: DEFAULT_PIN,
    unblock: { kind: 'admin-response', respond },
    admin: { kind: 'challenge-response', respond },
  },
  containers: [
    { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 2048, generate: true },
    { index: 1, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
    { index: 2, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0, generate: true },
    { index: 3, keySpec: KeySpec.AT_SIGNATURE, keySize: 2048, generate: false },
  ],
  writableFiles: true,
  certificateContainer: 0,
});
