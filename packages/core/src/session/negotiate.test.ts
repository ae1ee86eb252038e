import type { CardDataVersion } from '@minidriver/spec';
import { ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CardSession } from './card-session.js';
import {
  negotiateCardDataVersion,
  requireEntryPointVersion,
  resolveStructureVersion,
  validateCardDataVersions,
} from './negotiate.js';
import { createTestPlugin, MemoryCard, MemoryTransport } from './testing/memory-card.js';

// Expected outcomes written out by hand from docs/spec/minidriver.md §1.6 / §11 (R = ERROR_REVISION_MISMATCH), for requested 0..9.
const TABLE: ReadonlyArray<[min: CardDataVersion, current: CardDataVersion, outcomes: string]> = [
  [4, 4, 'R R R R 4 4 4 4 4 4'],
  [4, 5, 'R R R R 4 5 5 5 5 5'],
  [4, 6, 'R R R R 4 5 6 6 6 6'],
  [4, 7, 'R R R R 4 5 6 7 7 7'],
  [5, 7, 'R R R R R 5 6 7 7 7'],
  [6, 7, 'R R R R R R 6 7 7 7'],
  [7, 7, 'R R R R R R R 7 7 7'],
];

function outcome(action: () => number): string {
  try {
    return String(action());
  } catch (error) {
    return ScardError.hasCode(error, 'ERROR_REVISION_MISMATCH') ? 'R' : `unexpected ${String(error)}`;
  }
}

describe('CARD_DATA version negotiation (docs/spec/minidriver.md §1.6)', () => {
  for (const [min, current, expected] of TABLE) {
    it(`plugin (min ${min}, current ${current}) against requested 0..9`, () => {
      const outcomes = Array.from({ length: 10 }, (_, requested) =>
        outcome(() => negotiateCardDataVersion(requested, { min, current })),
      );
      expect(outcomes.join(' ')).toBe(expected);
    });

    it(`CardSession.open negotiates the same for (min ${min}, current ${current})`, async () => {
      const outcomes: string[] = [];
      for (let requested = 0; requested <= 9; requested++) {
        const plugin = createTestPlugin({ min, current });
        try {
          const session = await CardSession.open(plugin, new MemoryTransport(new MemoryCard()), { version: requested });
          outcomes.push(String(session.version));
          await session.close();
        } catch (error) {
          outcomes.push(ScardError.hasCode(error, 'ERROR_REVISION_MISMATCH') ? 'R' : String(error));
          // Refused before the plugin was asked: acquireContext never ran.
          expect(plugin.calls).toEqual([]);
        }
      }
      expect(outcomes.join(' ')).toBe(expected);
    });
  }

  it('rejects a requested version that is not a DWORD', () => {
    expect(() => negotiateCardDataVersion(-1, { min: 4, current: 7 })).toThrowError(/SCARD_E_INVALID_PARAMETER/);
    expect(() => negotiateCardDataVersion(6.5, { min: 4, current: 7 })).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });

  it('rejects broken plugin declarations with SCARD_E_UNEXPECTED', () => {
    for (const versions of [
      { min: 3, current: 7 },
      { min: 4, current: 8 },
      { min: 7, current: 6 },
    ]) {
      expect(() => validateCardDataVersions('x', versions as never)).toThrowError(/SCARD_E_UNEXPECTED/);
    }
    expect(() => validateCardDataVersions('x', { min: 4, current: 7 })).not.toThrow();
  });

  it('refuses an entry point above the negotiated version, naming both versions', () => {
    expect(() => requireEntryPointVersion('getProperty', 5)).toThrowError(
      'SCARD_E_UNSUPPORTED_FEATURE: CardGetProperty needs CARD_DATA version 6; this context negotiated 5',
    );
    expect(() => requireEntryPointVersion('deriveKey', 4)).toThrowError(/CardDeriveKey needs CARD_DATA version 5/);
    expect(() => requireEntryPointVersion('createContainerEx', 6)).toThrowError(/version 7/);
    // CardSignData and CardConstructDHAgreement sit in the v4 block (docs/spec/minidriver.md §14 item 30).
    expect(() => requireEntryPointVersion('signData', 4)).not.toThrow();
    expect(() => requireEntryPointVersion('constructDHAgreement', 4)).not.toThrow();
  });
});

describe('versioned structures (docs/spec/minidriver.md §1.6)', () => {
  it('counts 0 as 1, accepts the current version, and refuses above it', () => {
    expect(resolveStructureVersion('CARD_CAPABILITIES', 0, 1)).toBe(1);
    expect(resolveStructureVersion('CARD_CAPABILITIES', 1, 1)).toBe(1);
    expect(() => resolveStructureVersion('CARD_CAPABILITIES', 2, 1)).toThrowError(/ERROR_REVISION_MISMATCH/);
    expect(resolveStructureVersion('PIN_INFO', 6, 6)).toBe(6);
    expect(() => resolveStructureVersion('PIN_INFO', -1, 6)).toThrowError(/SCARD_E_INVALID_PARAMETER/);
  });
});
