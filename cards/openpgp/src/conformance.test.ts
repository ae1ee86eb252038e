/**
 * The minidriver conformance suite (@minidriver/conformance) run against the OpenPGP plugin and its
 * simulator. What an OpenPGP card is, declared honestly: three fixed key slots (0 signature, 1 decryption,
 * 2 authentication); the decryption key cannot sign; the card pads RSA itself (PKCS #1 v1.5 only: no PSS,
 * no OAEP); PW3 is the admin (a PIN), needed for key generation and certificate writes, and unblocks PW1;
 * certificate files are the card's certificate objects; there are no free-form files.
 */
import { defineConformanceSuite } from '@minidriver/conformance';
import type { CardSession } from '@minidriver/core';
import { KeySpec, ROLE_ADMIN } from '@minidriver/spec';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin } from './index.js';

const encoder = new TextEncoder();
/** Factory PW1 and PW3 of an OpenPGP card (and of the simulator). */
const PW1 = encoder.encode('123456');
const PW3 = encoder.encode('12345678');

defineConformanceSuite({
  name: 'OpenPGP',
  plugin,
  createCard: () => new OpenPgpSimulator(),
  credentials: {
    userPin: PW1,
    unblock: { kind: 'pin-id', pinId: ROLE_ADMIN, pin: PW3 },
    admin: { kind: 'pin', pin: PW3 },
  },
  containers: [
    { index: 0, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
    { index: 1, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 2048, generate: true, canSign: false },
    { index: 2, keySpec: KeySpec.AT_SIGNATURE, keySize: 2048, generate: false },
  ],
  writableFiles: false,
  kitFileSystem: true,
  certificateContainer: 1,
  algorithmChange: { index: 1, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0 },
  crypto: { pss: false, oaep: false, rawDecrypt: 'pkcs1-only' },
  ecdhContainer: { index: 1, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0, generate: true },
  prepare: async (session: CardSession) => {
    await session.authenticatePin('admin', new Uint8Array(PW3));
  },
});
