import { packageBuild } from '../../tsup.shared.ts';

// `./testing` imports vitest, which the test runner of the consuming package provides.
export default packageBuild({ index: 'src/index.ts', testing: 'src/describe-with-tools.ts' }, { external: ['vitest'] });
