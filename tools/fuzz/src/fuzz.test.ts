import type { CardSession } from '@minidriver/core';
import { ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz.js';
import { MUTATIONS } from './mutations.js';
import { TARGETS } from './targets.js';

// The short seeded run of `pnpm test`; the long run (>= 1,000,000 APDUs per plugin) is `pnpm fuzz --apdus N`.
const FLOWS = 2000;

describe('hostile-card fuzzer, seeded short run', () => {
  for (const [name, prepare] of Object.entries(TARGETS)) {
    it(`${name}: ${FLOWS} flows under mutated answers end only in results or ScardError, never hang`, async () => {
      const report = await runFuzz(await prepare(), { seed: `pnpm-test-${name}`, iterations: FLOWS });
      expect(report.findings).toEqual([]);
      expect(report.nonScardErrors).toBe(0);
      expect(report.hangs).toBe(0);
      expect(report.iterations).toBe(FLOWS);
      // The run really attacked: every kind of mutation happened, and the flows also got through.
      for (const kind of MUTATIONS) expect(report.mutations[kind], kind).toBeGreaterThan(0);
      expect(report.successes).toBeGreaterThan(FLOWS);
      expect(report.scardErrors).toBeGreaterThan(0);
    }, 180_000);
  }

  it('reports a throw that is not a ScardError, and a flow that never stops sending', async () => {
    const piv = await TARGETS['piv']!();
    const careless = {
      ...piv,
      steps: [
        {
          name: 'careless',
          // A step that trusts the card: any mutated cardid breaks its parsing with a SyntaxError.
          run: async (session: CardSession) =>
            JSON.parse(`"${Buffer.from(await session.readFile(null, 'cardid')).toString('latin1')}"`),
        },
        {
          name: 'runaway',
          run: async (session: CardSession) => {
            for (;;)
              await session.readFile(null, 'cardid').catch((error: unknown) => {
                if (ScardError.hasCode(error, 'SCARD_E_TIMEOUT')) throw error;
              });
          },
        },
      ],
    };
    const report = await runFuzz(careless, { seed: 'detects', iterations: 20, rate: 0.5, flowApduBudget: 300 });
    expect(report.nonScardErrors).toBeGreaterThan(0);
    expect(report.findings[0]?.step).toBe('careless');
    expect(report.hangs).toBeGreaterThan(0);
  }, 60_000);
});
