/**
 * A simulated card in a vpcd reader for the whole of a vitest suite: the port lock taken in turn with every
 * other test file serving a card on that port, the card served and accepted by pcscd before the first
 * test, and both undone after the last. Imports vitest: exported from `@minidriver/sim/testing` only.
 *
 * @packageDocumentation
 */
import { afterAll, beforeAll } from 'vitest';
import type { SimulatedCard } from './simulated-card.js';
import { acquireVpcdPortLock } from './testing.js';
import { serveVpcd, type VpcdOptions, type VpcdServer } from './vpcd.js';

/** Options of {@link serveVpcdForSuite}. */
export interface VpcdSuiteOptions {
  /** The vpcd reader's port: 35963 is "Virtual PCD 00 00", 35964 "Virtual PCD 00 01". */
  readonly port: number;
  /** Called after each APDU exchange (see {@link VpcdOptions.onApdu}). */
  readonly onApdu?: VpcdOptions['onApdu'];
  /** Awaited with the lock held, before the card is served: e.g. until pcscd has seen the last card leave. */
  readonly beforeServe?: () => Promise<void>;
  /** Awaited once pcscd has accepted the card: e.g. until a client sees it in the reader. */
  readonly ready?: () => Promise<void>;
  /** Awaited after the card is taken out, before the lock is released: e.g. until pcscd has seen it leave. */
  readonly afterClose?: () => Promise<void>;
  /** How long the lock, the serving and `ready` may take together. Default 400 000 ms. */
  readonly setupTimeoutMs?: number;
}

/** The card of {@link serveVpcdForSuite}, once served. */
export interface VpcdSuiteCard {
  /** The running bridge (undefined before the suite's setup and after its teardown). */
  readonly server: VpcdServer | undefined;
}

/**
 * Serves `card` (or the card `card()` makes, in the setup) on vpcd `options.port` for the current suite: in `beforeAll` takes the port lock
 * ({@link acquireVpcdPortLock}), awaits `beforeServe`, serves the card, waits until pcscd accepts it (a
 * clear error when the reader stays busy) and awaits `ready`; in `afterAll` closes the bridge, awaits
 * `afterClose` and releases the lock. Call it in a `describe` body; hooks the suite registers after it
 * run after its setup and before its teardown.
 */
export function serveVpcdForSuite(
  card: SimulatedCard | (() => Promise<SimulatedCard>),
  options: VpcdSuiteOptions,
): VpcdSuiteCard {
  const setupTimeoutMs = options.setupTimeoutMs ?? 400_000;
  let server: VpcdServer | undefined;
  let releaseLock: (() => void) | undefined;
  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(options.port);
    await options.beforeServe?.();
    const served = serveVpcd(typeof card === 'function' ? await card() : card, {
      port: options.port,
      ...(options.onApdu === undefined ? {} : { onApdu: options.onApdu }),
    });
    server = served;
    let timer: NodeJS.Timeout | undefined;
    const busy = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`vpcd port ${options.port} stayed busy (another process serves a card there)`)),
        setupTimeoutMs / 2,
      );
    });
    await Promise.race([served.connected, busy]).finally(() => clearTimeout(timer));
    await options.ready?.();
  }, setupTimeoutMs);
  afterAll(async () => {
    try {
      if (server !== undefined) {
        await server.close();
        server = undefined;
        await options.afterClose?.();
      }
    } finally {
      releaseLock?.();
      releaseLock = undefined;
    }
  });
  return {
    get server() {
      return server;
    },
  };
}
