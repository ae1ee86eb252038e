/**
 * The minidriver conformance suite (@minidriver/conformance) run against the PIV plugin and its simulator.
 * What the PIV card is, declared honestly: the PUK unblocks the PIN; the admin is the management key
 * (3DES 0102030405060708 × 3 on a fresh simulator), authenticated by challenge/response, and needed for
 * key generation and certificate writes; containers are the fixed slots (0 = 9A, 1 = 9C, 2 = 9D, 3 = 9E);
 * certificate files are the slots' certificate objects; there are no free-form files.
 */
import { createCipheriv } from 'node:crypto';
import { defineConformanceSuite } from '@minidriver/conformance';
import type { CardSession } from '@minidriver/core';
import { KeySpec } from '@minidriver/spec';
import { PivSimulator } from '../sim/index.js';
import { plugin } from './index.js';

const encoder = new TextEncoder();
/** The PIV default management key (SP 800-78 / YubiKey factory value). */
const MANAGEMENT_KEY = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');

/** The admin response: 3DES-ECB encryption of the challenge under `key` (docs/spec/piv.md §6.6). */
function respondWith(key: Uint8Array, challenge: Uint8Array): Uint8Array {
  const cipher = createCipheriv('des-ede3', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
}

/** The admin response under the factory management key. */
function respond(challenge: Uint8Array): Uint8Array {
  return respondWith(MANAGEMENT_KEY, challenge);
}

defineConformanceSuite({
  name: 'PIV',
  plugin,
  createCard: () => new PivSimulator(),
  credentials: {
    userPin: encoder.encode('123456'),
    unblock: { kind: 'puk', puk: encoder.encode('12345678') },
    admin: { kind: 'challenge-response', respond, keyChange: { key: MANAGEMENT_KEY, respondWith } },
  },
  containers: [
    { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 2048, generate: true },
    { index: 1, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
    { index: 2, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0, generate: true },
    { index: 3, keySpec: KeySpec.AT_SIGNATURE, keySize: 2048, generate: false },
  ],
  writableFiles: false,
  kitFileSystem: true,
  certificateContainer: 0,
  algorithmChange: { index: 0, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0 },
  prepare: async (session: CardSession) => {
    const challenge = await session.getChallenge();
    await session.authenticateChallenge(respond(challenge));
  },
});
