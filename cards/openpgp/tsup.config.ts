import { packageBuild } from '../../tsup.shared.ts';

export default packageBuild({ index: 'src/index.ts', management: 'src/openpgp-management.ts', sim: 'sim/index.ts' });
