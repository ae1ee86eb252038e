import { packageBuild } from '../../tsup.shared.ts';

export default packageBuild({ index: 'src/index.ts', management: 'src/piv-management.ts', sim: 'sim/index.ts' });
