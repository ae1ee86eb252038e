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
