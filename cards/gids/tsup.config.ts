import { packageBuild } from '../../tsup.shared.ts';

export default packageBuild({ sim: 'sim/index.ts' });
