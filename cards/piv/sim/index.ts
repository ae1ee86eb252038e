/**
 * `@minidriver/card-piv/sim` — a faithful YubiKey-class PIV card simulator (SimulatedCard) for tests,
 * the in-memory transport and pcscd through vpcd.
 *
 * @packageDocumentation
 */

export { PivAlgorithm } from './piv-keys.js';
export { DEFAULT_MANAGEMENT_KEY, type ManagementKeyAlgorithm } from './piv-management-key.js';
export { PivObjectTag } from './piv-objects-store.js';
export { DEFAULT_PIN, DEFAULT_PUK, DEFAULT_RETRIES } from './piv-pins.js';
export {
  APPLICATION_PROPERTY_TEMPLATE,
  isKeySlot,
  PIV_AID,
  PivSimulator,
  type PivSimulatorOptions,
  type PivSimulatorState,
  YUBIKEY5_ATR,
} from './piv-simulator.js';
