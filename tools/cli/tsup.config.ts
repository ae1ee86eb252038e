import { packageBuild } from '../../tsup.shared.ts';

// The CLI is an executable, not a library: ESM only, no declarations.
export default packageBuild(
  { bin: 'src/bin.ts' },
  { format: ['esm'], dts: false, banner: { js: '#!/usr/bin/env node' } },
);
