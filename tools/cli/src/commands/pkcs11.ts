/**
 * `minidriver pkcs11 serve [--socket path]`: serves the cards (every reader, or `--reader`, or the
 * `--sim` card) to PKCS #11 applications through p11-kit's client module until interrupted.
 */
import { KeyStore } from '@minidriver/keystore';
import { defaultSocketPath, exportLine, KeyStoreSource, Pkcs11Server } from '@minidriver/pkcs11-server';
import { autosaveCard, openCardState } from '@minidriver/sim';
import { createCliLoader } from '../card/cli-loader.js';
import { createSimulator } from '../card/simulators.js';
import { simulatorStateFile } from '../card/state-directory.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { requirePositional, stringOption } from './context.js';
import { interrupted } from './sim-serve.js';

export const pkcs11Command: Command = {
  name: 'pkcs11',
  usage: 'serve [--socket <path>]',
  summary: 'serve the cards to PKCS #11 programs (ssh, openssl, pkcs11-tool) through p11-kit-client.so',
  options: {
    socket: {
      type: 'string',
      placeholder: '<path>',
      description: 'Unix socket to listen on (default $XDG_RUNTIME_DIR/minidriver/pkcs11)',
    },
  },
  async run(context) {
    const action = requirePositional(context, 0, 'serve');
    if (action !== 'serve') throw new UsageError(`unknown pkcs11 action "${action}" (only "serve")`);
    const socketPath = stringOption(context, 'socket') ?? defaultSocketPath();
    const reader = stringOption(context, 'reader');
    const simName = stringOption(context, 'sim');
    const loader = await createCliLoader(context.plugins);
    const trace = context.trace ? { trace: context.trace } : {};
    let release: () => Promise<void> = async () => undefined;
    let store: KeyStore;
    if (simName !== undefined) {
      const card = await createSimulator(simName, {}, context.plugins);
      const stateFile = simulatorStateFile(simName);
      const lease = await openCardState(card, stateFile);
      const served = autosaveCard(card, stateFile);
      store = await KeyStore.open({ simulators: [served], loader, ...trace });
      release = async () => {
        try {
          await served.flush();
        } finally {
          lease.release();
        }
      };
    } else {
      store = await KeyStore.open({ loader, ...trace, ...(reader === undefined ? {} : { readers: [reader] }) });
    }
    // A card the store cannot open (no plugin, a card error) is said, not silently left out.
    store.on('card-error', ({ readerName, error }) =>
      process.stderr.write(`${readerName || 'PC/SC'}: ${error.message}\n`),
    );
    let server: Pkcs11Server;
    try {
      server = await Pkcs11Server.listen({ socketPath, source: new KeyStoreSource(store) });
    } catch (error) {
      await store.close();
      await release();
      throw error;
    }
    // PC/SC cards present at start may still be opening: give the first one a moment, so the list below says it.
    if (simName === undefined && store.tokens.length === 0) {
      await store.waitForToken({ timeoutMs: 5000, ...(reader === undefined ? {} : { reader }) }).catch(() => undefined);
    }
    // The line to evaluate in a shell, first on stdout (scripts read it), then what is served.
    process.stdout.write(`${exportLine(server.socketPath)}\n`);
    context.print(`serving ${store.tokens.length} token(s) on ${server.socketPath}; stop with Ctrl-C`);
    for (const token of store.tokens) context.print(`  ${token.readerName}: ${token.label} (${token.plugin.name})`);
    const signal = await interrupted();
    await server.close();
    await store.close();
    await release();
    context.print(`stopped (${signal})`);
    return { socket: server.socketPath, signal };
  },
};
