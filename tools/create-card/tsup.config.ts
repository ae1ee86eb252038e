import { packageBuild } from '../../tsup.shared.ts';

// An executable, not a library: ESM only, no declarations. The versions of the @minidriver packages it
// writes into a new card package are read from their package.json at build time and bundled.
export default packageBuild(
  { bin: 'src/bin.ts' },
  { format: ['esm'], dts: false, banner: { js: '#!/usr/bin/env node' } },
);
