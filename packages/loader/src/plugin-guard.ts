/**
 * What the loader does not take on trust from a plugin's code: whatever it throws becomes a ScardError
 * naming its package, and the minidriver it returns must implement every entry point its declared
 * CARD_DATA range requires, whatever version this session negotiated.
 *
 * @packageDocumentation
 */
import {
  type CardContext,
  ENTRY_POINT_VERSION,
  type EntryPointName,
  type Minidriver,
  type MinidriverPlugin,
  REQUIRED_ENTRY_POINTS,
  ScardError,
  specEntryPointName,
} from '@minidriver/spec';
import { problemOf } from './manifest.js';

/**
 * `error` as a ScardError whose message starts with the package's name (and what the loader was doing):
 * the code, retries and status word of a ScardError are kept; anything else is SCARD_E_UNEXPECTED.
 */
export function errorNamingPackage(packageName: string, error: unknown, action?: string): ScardError {
  const prefix = action === undefined ? packageName : `${packageName}: ${action}`;
  const text = problemOf(error);
  if (text.includes(packageName)) return ScardError.from(error);
  if (!ScardError.isInstance(error)) {
    const kind = error instanceof Error ? `${error.name}: ` : 'threw ';
    return new ScardError('SCARD_E_UNEXPECTED', `${prefix}: ${kind}${text}`, { cause: error });
  }
  return new ScardError(error.code, `${prefix}: ${text}`, {
    ...(error.retriesLeft === undefined ? {} : { retriesLeft: error.retriesLeft }),
    ...(error.statusWord === undefined ? {} : { statusWord: error.statusWord }),
    cause: error,
  });
}

/** The entry points a plugin claiming CARD_DATA `current` must implement, with the version that requires each. */
export function requiredEntryPoints(current: number): { name: EntryPointName; version: number }[] {
  return (Object.entries(REQUIRED_ENTRY_POINTS) as [EntryPointName, boolean][])
    .filter(([name, required]) => required && ENTRY_POINT_VERSION[name] <= current)
    .map(([name]) => ({ name, version: ENTRY_POINT_VERSION[name] }));
}

/**
 * Wraps a loaded plugin: its acquireContext's failures name the package, and the minidriver it returns
 * is checked against the whole declared range (a plugin claiming version 7 that lacks a version 6 entry
 * point is refused even when the session asked for version 5).
 */
export function guardPlugin(plugin: MinidriverPlugin, packageName: string): MinidriverPlugin {
  const { current, min } = plugin.cardDataVersions;
  const guarded: Pick<MinidriverPlugin, 'acquireContext'> = {
    async acquireContext(context: CardContext, flags: number): Promise<Minidriver> {
      let minidriver: Minidriver;
      try {
        minidriver = await plugin.acquireContext(context, flags);
      } catch (error) {
        throw errorNamingPackage(packageName, error, 'CardAcquireContext');
      }
      if (typeof minidriver !== 'object' || minidriver === null) {
        throw new ScardError('SCARD_E_UNEXPECTED', `${packageName}: CardAcquireContext returned no minidriver`);
      }
      const missing = requiredEntryPoints(current).filter(
        ({ name }) => typeof (minidriver as unknown as Record<string, unknown>)[name] !== 'function',
      );
      if (missing.length > 0) {
        await Promise.resolve()
          .then(() => minidriver.deleteContext?.())
          .catch(() => undefined);
        const list = missing.map(({ name, version }) => `${specEntryPointName(name)} (version ${version})`).join(', ');
        throw new ScardError(
          'SCARD_E_UNEXPECTED',
          `${packageName} claims CARD_DATA versions ${min} to ${current} but does not implement ${list}; ` +
            'implement them or lower "cardDataVersions.current" in its manifest and plugin',
        );
      }
      return minidriver;
    },
  };
  // Everything else the plugin offers is read through to the plugin itself.
  return Object.assign(Object.create(plugin) as MinidriverPlugin, guarded);
}
