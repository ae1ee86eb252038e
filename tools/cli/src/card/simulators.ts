/**
 * The built-in simulated cards `--sim <card>`, `sim serve <card>` and `demo` can use, and the one
 * place that knows their factory secrets (published defaults of the simulators, used only by `demo`).
 */

import { errorNamingPackage, type LoadedSimulator } from '@minidriver/loader';
import type { SimulatedCard } from '@minidriver/sim';
import { CacheMode, type MinidriverPlugin, ScardError } from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';
import { createCliLoader, explainTrustRefusal, type PluginChoices } from './cli-loader.js';

/** Makes a factory-fresh simulated card. */
type SimulatorFactory = (options: { readonly seed?: string }) => Promise<SimulatedCard>;

/** What the CLI knows about a built-in simulated card. */
export interface SimulatorProfile {
  /** What it is, for humans ("PIV card (YubiKey-like)"). */
  readonly description: string;
  readonly create: SimulatorFactory;
  /** The factory user PIN of a fresh card (ROLE_USER). */
  readonly factoryUserPin: string;
  /**
   * The factory admin secret of a fresh card. Which one is used is decided by the card's PIN_INFO for
   * ROLE_ADMIN (challenge/response → the key, else the PIN), not by this table.
   */
  readonly factoryAdmin: {
    /** What the card calls its admin secret ("management key", "admin PIN PW3"). */
    readonly name: string;
    /** `default`: the card's well-known default admin key (the CLI's `--admin-key default`). */
    readonly key?: 'default';
    readonly pin?: string;
  };
  /**
   * The plugin `demo` uses on this in-process card, when it differs from the loaded one. Nothing else can
   * touch the in-process card, so a plugin that could keep a session cache may do so here.
   */
  readonly demoPlugin?: () => Promise<MinidriverPlugin>;
}

const SIMULATORS: Readonly<Record<string, SimulatorProfile>> = {
  piv: {
    description: 'PIV card (YubiKey-like)',
    create: async (options) => {
      const { PivSimulator } = await import('@minidriver/card-piv/sim');
      return new PivSimulator(options.seed === undefined ? {} : { seed: options.seed });
    },
    factoryUserPin: '123456',
    factoryAdmin: { name: 'management key', key: 'default' },
    // The PIV plugin's default is NO_CACHE because a real PIV card has no cardcf.
    demoPlugin: async () => {
      const { createPivPlugin } = await import('@minidriver/card-piv');
      return createPivPlugin({ cacheMode: CacheMode.SESSION_ONLY });
    },
  },
  openpgp: {
    description: 'OpenPGP card 3.4',
    create: async () => {
      const { OpenPgpSimulator } = await import('@minidriver/card-openpgp/sim');
      return new OpenPgpSimulator();
    },
    factoryUserPin: '123456',
    factoryAdmin: { name: 'admin PIN PW3', pin: '12345678' },
  },
  gids: {
    description: 'GIDS card (Microsoft Generic Identity Device Specification)',
    create: async (options) => {
      const { createSimulator } = await import('@minidriver/card-gids/sim');
      return createSimulator(options);
    },
    factoryUserPin: '12345678',
    factoryAdmin: { name: 'admin key', key: 'default' },
  },
};

/** Names accepted by `--sim`. */
export const SIMULATOR_NAMES: readonly string[] = Object.keys(SIMULATORS);

/** The profile of a built-in simulated card by name; an unknown name is a usage error. */
export function simulatorProfile(name: string): SimulatorProfile {
  const profile = Object.hasOwn(SIMULATORS, name) ? SIMULATORS[name] : undefined;
  if (!profile) throw new UsageError(`unknown simulated card (choose ${SIMULATOR_NAMES.join(', ')})`);
  return profile;
}

/**
 * A fresh simulated card by name: a built-in one, else the simulator a plugin's manifest names (the
 * plugins of {@link createCliLoader}, imported under its trust policy). An unknown name is a usage error
 * that lists the names there are.
 */
export async function createSimulator(
  name: string,
  options: { readonly seed?: string } = {},
  choices: PluginChoices = {},
): Promise<SimulatedCard> {
  if (Object.hasOwn(SIMULATORS, name)) return (SIMULATORS[name] as SimulatorProfile).create(options);
  const loader = await createCliLoader(choices);
  let loaded: LoadedSimulator | undefined;
  try {
    loaded = await loader.loadSimulator(name);
  } catch (error) {
    throw await explainTrustRefusal(error, loader, choices);
  }
  if (!loaded) {
    const shipped = (await loader.listSimulators())
      .map((simulator) => simulator.name)
      .filter((shippedName) => !SIMULATOR_NAMES.includes(shippedName));
    throw new UsageError(
      `unknown simulated card (choose ${[...SIMULATOR_NAMES, ...shipped].join(', ')}; a plugin's simulator needs --plugin <package|dir> when it is not a dependency of this project)`,
    );
  }
  let card: unknown;
  try {
    card = await loaded.createSimulator(options);
  } catch (error) {
    throw errorNamingPackage(loaded.packageName, error, 'createSimulator');
  }
  if (!isSimulatedCard(card)) {
    throw new ScardError(
      'SCARD_E_UNEXPECTED',
      `${loaded.packageName}: createSimulator() did not return a simulated card`,
    );
  }
  return card;
}

function isSimulatedCard(value: unknown): value is SimulatedCard {
  const card = value as Partial<SimulatedCard> | null;
  return (
    typeof card === 'object' &&
    card !== null &&
    card.atr instanceof Uint8Array &&
    typeof card.name === 'string' &&
    typeof card.process === 'function' &&
    typeof card.powerOn === 'function' &&
    typeof card.powerOff === 'function' &&
    typeof card.reset === 'function'
  );
}
