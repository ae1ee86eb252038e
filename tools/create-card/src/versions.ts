/**
 * The versions of the @minidriver packages this scaffolder was released with, read from their
 * package.json when it is built (bundled into dist), so a new card package depends on what was
 * published together.
 *
 * @packageDocumentation
 */
import cardKit from '@minidriver/card-kit/package.json' with { type: 'json' };
import conformance from '@minidriver/conformance/package.json' with { type: 'json' };
import iso7816 from '@minidriver/iso7816/package.json' with { type: 'json' };
import loader from '@minidriver/loader/package.json' with { type: 'json' };
import sim from '@minidriver/sim/package.json' with { type: 'json' };
import spec from '@minidriver/spec/package.json' with { type: 'json' };

export const MINIDRIVER_VERSIONS = {
  '@minidriver/card-kit': cardKit.version,
  '@minidriver/conformance': conformance.version,
  '@minidriver/iso7816': iso7816.version,
  '@minidriver/loader': loader.version,
  '@minidriver/sim': sim.version,
  '@minidriver/spec': spec.version,
} as const;
