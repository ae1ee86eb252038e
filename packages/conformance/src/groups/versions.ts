/**
 * Group 1 — CARD_DATA version negotiation (docs/spec/minidriver.md §1.6, §5.1.1, §11 "Context and versions"): requested
 * versions below the plugin's minimum are ERROR_REVISION_MISMATCH, others negotiate to
 * min(requested, current), and entry points above the negotiated version never reach the card.
 */

import { CardSession, DataCacheStore } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { type CardDataVersion, CardProperty, KeySpec, ROLE_USER } from '@minidriver/spec';
import { describe, it } from 'vitest';
import { check, checkFailedWith, closeRig, countApdus, must, mustFail, openRig, type Rig } from '../harness.js';
import type { ConformanceOptions } from '../options.js';

/** A call to an entry point introduced at `since`, with arguments that would otherwise be valid. */
interface VersionedCall {
  readonly entryPoint: string;
  readonly since: CardDataVersion;
  readonly call: (rig: Rig) => Promise<unknown>;
}

const VERSIONED_CALLS: readonly VersionedCall[] = [
  {
    entryPoint: 'CardDeriveKey',
    since: 5,
    call: (rig) => rig.session.deriveKey({ version: 1, flags: 0, kdf: 'HASH', agreementIndex: 0 }),
  },
  { entryPoint: 'CardDestroyDHAgreement', since: 5, call: (rig) => rig.session.destroyDHAgreement(0) },
  {
    entryPoint: 'CardAuthenticateEx',
    since: 6,
    call: (rig) => rig.session.authenticateEx(ROLE_USER, 0, new TextEncoder().encode('000000')),
  },
  { entryPoint: 'CardGetChallengeEx', since: 6, call: (rig) => rig.session.getChallengeEx(2) },
  { entryPoint: 'CardDeauthenticateEx', since: 6, call: (rig) => rig.session.deauthenticateEx(0xff) },
  { entryPoint: 'CardGetProperty', since: 6, call: (rig) => rig.session.getProperty(CardProperty.CP_CARD_GUID) },
  {
    entryPoint: 'CardSetProperty',
    since: 6,
    call: (rig) => rig.session.setProperty(CardProperty.CP_PIN_CONTEXT_STRING, 'x'),
  },
  {
    entryPoint: 'CardGetContainerProperty',
    since: 6,
    call: (rig) => rig.session.getContainerProperty(0, 'PIN Identifier'),
  },
  {
    entryPoint: 'CardCreateContainerEx',
    since: 7,
    call: (rig) => rig.session.createContainerEx(0, 1, KeySpec.AT_KEYEXCHANGE, 2048, undefined, ROLE_USER),
  },
];

export function defineVersionTests(options: ConformanceOptions): void {
  const { min, current } = options.plugin.cardDataVersions;

  describe('version negotiation (docs/spec/minidriver.md §1.6, §5.1.1)', () => {
    it('declares 4 <= min <= current <= 7 (docs/spec/minidriver.md §1.6)', () => {
      check(
        Number.isInteger(min) && Number.isInteger(current) && min >= 4 && min <= current && current <= 7,
        'docs/spec/minidriver.md §1.6 cardDataVersions must satisfy 4 <= min <= current <= 7',
        `the plugin declares ${JSON.stringify(options.plugin.cardDataVersions)}`,
      );
    });

    for (const requested of [3, 4, 5, 6, 7, 8, 9]) {
      const expectation =
        requested < min ? 'ERROR_REVISION_MISMATCH' : `CARD_DATA version ${Math.min(requested, current)}`;
      it(`dwVersion ${requested} → ${expectation}`, async () => {
        const card = options.createCard();
        if (requested < min) {
          const transport = new SimTransport(card);
          try {
            await mustFail(
              CardSession.open(options.plugin, transport, { version: requested, cache: new DataCacheStore() }),
              'ERROR_REVISION_MISMATCH',
              `docs/spec/minidriver.md §1.6/§5.1.1 CardAcquireContext with dwVersion ${requested} below the minimum ${min}`,
            );
          } finally {
            await transport.close();
          }
          return;
        }
        const rig = await openRig(options, card, { version: requested });
        try {
          const negotiated = Math.min(requested, current);
          check(
            rig.session.version === negotiated,
            `docs/spec/minidriver.md §1.6 CardAcquireContext with dwVersion ${requested} must negotiate min(requested, current) = ${negotiated}`,
            `the session negotiated ${rig.session.version}`,
          );
        } finally {
          await closeRig(rig);
        }
      });
    }

    for (let version = Math.max(min, 4); version < 7; version++) {
      const above = VERSIONED_CALLS.filter((entry) => entry.since > version);
      it(`at CARD_DATA ${version}, ${above.map((entry) => entry.entryPoint).join(', ')} are refused without an APDU`, async () => {
        const rig = await openRig(options, options.createCard(), { version });
        try {
          for (const entry of above) {
            const outcome = await countApdus(rig, () => entry.call(rig));
            checkFailedWith(
              outcome,
              'SCARD_E_UNSUPPORTED_FEATURE',
              `docs/spec/minidriver.md §1.6 ${entry.entryPoint} (CARD_DATA ${entry.since}) called in a context that negotiated ${version}`,
            );
            const apdus = outcome.apdus;
            check(
              apdus === 0,
              `docs/spec/minidriver.md §1.6 a refused ${entry.entryPoint} must not reach the card`,
              `it sent ${apdus} APDUs`,
            );
          }
        } finally {
          await closeRig(rig);
        }
      });
    }

    it(`at CARD_DATA ${current} every required entry point is present (docs/spec/minidriver.md §5.10)`, async () => {
      // CardSession.open checks the required slots of the negotiated version; a missing one fails here.
      const rig = await openRig(options, options.createCard(), { version: current });
      try {
        await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3 CardQueryCapabilities');
      } finally {
        await closeRig(rig);
      }
    });
  });
}
