/**
 * The minidriver conformance suite on the simulated card: every entry point, PIN semantics, the logical
 * file system, key containers, signatures checked with node:crypto, the data cache and card removal.
 */
import { defineConformanceSuite } from '@minidriver/conformance';
import { KeySpec } from '@minidriver/spec';
import { CardSimulator, FACTORY_PIN, FACTORY_PUK } from '../sim/index.js';
import { CARD_NAME, plugin } from './index.js';

const text = (value: string) => new TextEncoder().encode(value);

defineConformanceSuite({
  name: CARD_NAME,
  plugin,
  createCard: () => new CardSimulator(),
  credentials: {
    userPin: text(FACTORY_PIN),
    unblock: { kind: 'puk', puk: text(FACTORY_PUK) },
  },
  containers: [
    { index: 0, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
    { index: 1, keySpec: KeySpec.AT_ECDSA_P256, keySize: 0, generate: true },
  ],
  certificateContainer: 0,
  writableFiles: false,
});
