import { it } from 'vitest';
import { checkPublicNames } from '../../../test-support/public-names.js';

it('exports exactly the public names of exports.snapshot.json', () => checkPublicNames(import.meta.url), 60_000);
