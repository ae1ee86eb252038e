/**
 * defineConformanceSuite: the vitest suite every card package runs against its simulator.
 */
import { describe } from 'vitest';
import { defineCacheTests } from './groups/cache.js';
import { defineContainerTests } from './groups/containers.js';
import { defineCryptoTests } from './groups/crypto.js';
import { defineFaultTests } from './groups/faults.js';
import { defineFileTests } from './groups/files.js';
import { defineParameterTests } from './groups/parameters.js';
import { definePinTests } from './groups/pins.js';
import { definePolicyTests } from './groups/policies.js';
import { defineRemovalTests } from './groups/removal.js';
import { defineVersionTests } from './groups/versions.js';
import { type ConformanceOptions, validateConformanceOptions } from './options.js';

/**
 * Declares the minidriver conformance suite for one card (call it at the top level of a `*.test.ts`
 * file). Eight groups, each on a fresh simulated card from `options.createCard`:
 *
 * 1. version negotiation (docs/spec/minidriver.md §1.6), 2. parameter checks that never reach the card (docs/spec/minidriver.md §1.5, §5),
 * 3. PIN semantics (docs/spec/minidriver.md §5.2, §6), 4. the logical file system (docs/spec/minidriver.md §4, §5.3), 5. key containers (docs/spec/minidriver.md §5.4, §9.1),
 * 6. signatures and decryption verified with node:crypto (docs/spec/minidriver.md §5.6, §8, §9), 7. the data cache (docs/spec/minidriver.md §4.8),
 * 8. card removal in the middle of a write or a key generation.
 *
 * Failures are thrown as errors whose message starts with the broken rule's § reference.
 *
 * @example
 * ```ts
 * import { defineConformanceSuite } from '@minidriver/conformance';
 * defineConformanceSuite({ name: 'PIV', plugin, createCard: () => new PivSimulator(), credentials, containers });
 * ```
 */
export function defineConformanceSuite(options: ConformanceOptions): void {
  validateConformanceOptions(options);
  describe(`minidriver conformance: ${options.name}`, { timeout: options.timeoutMs ?? 60_000 }, () => {
    defineVersionTests(options);
    defineParameterTests(options);
    definePinTests(options);
    defineFileTests(options);
    defineContainerTests(options);
    defineCryptoTests(options);
    defineCacheTests(options);
    defineRemovalTests(options);
    definePolicyTests(options);
    defineFaultTests(options);
  });
}
