/**
 * The suite run against the reference card (src/testing), which is written to the spec: it proves every
 * group can pass, so a failure on a card package points at that card, not at the suite.
 */
import { KeySpec } from '@minidriver/spec';
import { defineConformanceSuite } from './suite.js';
import {
  REFERENCE_ADMIN_KEY,
  REFERENCE_PIN,
  REFERENCE_PUK,
  ReferenceCard,
  referencePlugin,
  tripleDesResponse,
} from './testing/reference-card.js';

const admin = {
  kind: 'challenge-response' as const,
  respond: (challenge: Uint8Array) => tripleDesResponse(REFERENCE_ADMIN_KEY, challenge),
};

defineConformanceSuite({
  name: 'reference card',
  plugin: referencePlugin,
  createCard: () => new ReferenceCard(),
  credentials: { userPin: REFERENCE_PIN, unblock: { kind: 'puk', puk: REFERENCE_PUK }, admin },
  containers: [
    { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 1024, generate: true },
    { index: 1, keySpec: KeySpec.AT_SIGNATURE, keySize: 1024, generate: false },
    { index: 2, keySpec: KeySpec.AT_ECDHE_P256, keySize: 0, generate: true },
  ],
  writableFiles: true,
  certificateContainer: 0,
  prepare: async (session) => {
    const challenge = await session.getChallenge();
    await session.authenticateChallenge(admin.respond(challenge));
  },
});
