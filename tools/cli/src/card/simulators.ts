/**
 * @module The built-in simulated cards `--sim <card>` and `sim serve <card>` can use.
 */
import type { SimulatedCard } from '@minidriver/sim';
import { UsageError } from '../parse/usage-error.js';

/** Makes a factory-fresh simulated card. */
type SimulatorFactory = (options: { readonly seed?: string }) => Promise<SimulatedCard>;

const SIMULATORS: Readonly<Record<string, SimulatorFactory>> = {
  piv: async (options) => {
    const { PivSimulator } = await import('@minidriver/card-piv/sim');
    return new PivSimulator(options.seed === undefined ? {} : { seed: options.seed });
  },
  openpgp: async () => {
    const { OpenPgpSimulator } = await import('@minidriver/card-openpgp/sim');
    return new OpenPgpSimulator();
  },
};

/** Names accepted by `--sim`. */
export const SIMULATOR_NAMES: readonly string[] = Object.keys(SIMULATORS);

/** A fresh simulated card by name; an unknown name is a usage error. */
export function createSimulator(name: string, options: { readonly seed?: string } = {}): Promise<SimulatedCard> {
  const factory = Object.hasOwn(SIMULATORS, name) ? SIMULATORS[name] : undefined;
  if (!factory) throw new UsageError(`unknown simulated card "${name}" (choose ${SIMULATOR_NAMES.join(', ')})`);
  return factory(options);
}
