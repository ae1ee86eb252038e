/**
 * The __CARD_NAME__ card's simulator, exported as `__PACKAGE_NAME__/sim`. The manifest's
 * `simulator.module` points here: `minidriver --sim __SIMULATOR_NAME__` and `minidriver sim serve
 * __SIMULATOR_NAME__` call {@link createSimulator}.
 *
 * @packageDocumentation
 */
import { CardSimulator } from './card-simulator.js';

export { CardSimulator, FACTORY_PIN, FACTORY_PUK } from './card-simulator.js';

/** A factory-fresh simulated card (the function tools look for in a simulator module). */
export function createSimulator(_options: { readonly seed?: string } = {}): CardSimulator {
  return new CardSimulator();
}
