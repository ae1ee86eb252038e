/**
 * @packageDocumentation
 * `@minidriver/card-gids/sim`: a faithful GIDS card simulator (SimulatedCard) for tests, the in-memory
 * transport and pcscd through vpcd.
 */

export { ADMIN_KEY_LENGTH, tripleDesCbc } from './gids-admin-auth.js';
export { INITIAL_MASTER_FILE, type ProvisioningParameters, provisioningCommands } from './gids-provisioning.js';
export {
  APPLICATION_FID,
  DEFAULT_ADMIN_KEY,
  DEFAULT_PIN,
  GIDS_AID,
  GIDS_ATR,
  GidsSimulator,
  type GidsSimulatorOptions,
  type GidsSimulatorState,
} from './gids-simulator.js';

import { createHash } from 'node:crypto';
import { GidsSimulator } from './gids-simulator.js';

/**
 * A factory-fresh simulated GIDS card (the manifest's `simulator` entry point). A `seed` makes the card
 * reproducible where it matters to callers: its cardid (SHA-256 of the seed, first 16 bytes).
 */
export function createSimulator(options: { readonly seed?: string } = {}): GidsSimulator {
  if (options.seed === undefined) return new GidsSimulator();
  const cardId = new Uint8Array(createHash('sha256').update(options.seed).digest().subarray(0, 16));
  return new GidsSimulator({ cardId });
}
