/**
 * The minidriver conformance suite (@minidriver/conformance) against the PIV plugin and its simulator.
 * PIV specifics declared honestly: the PUK unblocks, the admin is the 3DES management key
 * (challenge/response), generation and certificate writes need the admin, there are no free-form files.
 */
import { CardSession, KeySpec, ROLE_ADMIN } from '@minidriver/core';
import { defineConformanceSuite } from '@minidriver/conformance';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { encryptManagementChallenge, plugin } from './index.js';

const respond = (challenge: Uint8Array) => encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge);

defineConformanceSuite({
  name: 'PIV',
  plugin,
  createCard: () => new PivSimulator(),
  credentials: {
    userPin: new TextEncoder().encode('123456'),
    unblock: { kind: 'puk', puk: new TextEncoder().encode('12345678') },
    admin: { kind: 'challenge-response', respond },
  },
  containers: [
    { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 2048, generate: true },
    { index: 2, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0, generate: true },
    { index: 3, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
  ],
  certificateContainer: 0,
  prepare: async (session: CardSession) => {
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    await session.authenticateEx(ROLE_ADMIN, 0, respond(challenge));
  },
});
