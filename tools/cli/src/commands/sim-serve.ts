/**
 * `minidriver sim serve <card> [--vpcd host:port] [--state file]`: puts a simulated card into
 * pcscd through vpcd until interrupted; the card's state is saved after every change.
 */
import { autosaveCard, openCardState, serveVpcd, VPCD_DEFAULT_PORT } from '@minidriver/sim';
import { createSimulator } from '../card/simulators.js';
import { simulatorStateFile } from '../card/state-directory.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { requirePositional, stringOption } from './context.js';

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new UsageError('--vpcd must be host:port');
  return { host: match[1] as string, port: Number(match[2]) };
}

/** How long before `sim serve` says the card is still not in the reader. */
const SLOW_CONNECT_MS = 5000;

/**
 * How long the first TCP connect to vpcd may take before `sim serve` reports vpcd unreachable and
 * exits (a refusal is reported at once).
 */
const FIRST_CONNECT_TIMEOUT_MS = 3000;

/**
 * The reader name pcscd gives the vpcd reader listening on `port`: vpcd's readers listen on 35963,
 * 35964, ... and are named "Virtual PCD 00 00", "Virtual PCD 00 01", ... (the slot in two hex digits).
 * Undefined for a port that is not one of them.
 */
export function vpcdReaderName(port: number): string | undefined {
  const slot = port - VPCD_DEFAULT_PORT;
  if (!Number.isInteger(slot) || slot < 0 || slot > 0xff) return undefined;
  return `Virtual PCD 00 ${slot.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Resolves on SIGINT or SIGTERM. */
export function interrupted(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => () => resolve(signal);
    process.once('SIGINT', stop('SIGINT'));
    process.once('SIGTERM', stop('SIGTERM'));
  });
}

export const simCommand: Command = {
  name: 'sim',
  usage: 'serve <piv|openpgp|name> [--vpcd host:port] [--state file]',
  summary: 'serve a simulated card into pcscd through vpcd until interrupted',
  examples: [
    'minidriver sim serve piv                              # reader "Virtual PCD 00 00"',
    'minidriver sim serve openpgp --vpcd 127.0.0.1:35964   # reader "Virtual PCD 00 01"',
  ],
  subcommands: ['serve'],
  options: {
    vpcd: {
      type: 'string',
      placeholder: '<host:port>',
      description: `where pcscd's vpcd listens (default 127.0.0.1:${VPCD_DEFAULT_PORT})`,
    },
    state: {
      type: 'string',
      placeholder: '<file>',
      description: 'card state file (default: the --sim state file of that card)',
    },
  },
  async run(context) {
    const action = requirePositional(context, 0, 'serve');
    if (action !== 'serve') throw new UsageError('unknown sim action (only "serve")');
    const name = requirePositional(context, 1, '<card>');
    const { host, port } = parseHostPort(stringOption(context, 'vpcd') ?? `127.0.0.1:${VPCD_DEFAULT_PORT}`);
    const card = await createSimulator(name, {}, context.plugins);
    const stateFile =
      stringOption(context, 'state') ?? simulatorStateFile(name, process.env, context.config.stateDirectory);
    const lease = await openCardState(card, stateFile);
    const restored = lease.restored;
    const served = autosaveCard(card, stateFile);
    let apdus = 0;
    // No separate reachability probe: a bare connect-and-close looks to pcscd like a card inserted and
    // removed. The bridge's own first connection reports an unreachable vpcd (SCARD_E_NO_SERVICE).
    const server = serveVpcd(served, {
      host,
      port,
      onApdu: () => apdus++,
      firstConnectTimeoutMs: FIRST_CONNECT_TIMEOUT_MS,
    });
    const reader = vpcdReaderName(port);
    context.print(
      `serving simulated ${card.name} card (${restored ? 'state restored from' : 'fresh, state saved to'} ${stateFile})`,
    );
    context.print(
      `vpcd ${host}:${port} — ${reader ? `usually reader "${reader}"` : 'not a default vpcd port: the reader pcscd configured for it'}; stop with Ctrl-C`,
    );
    const signal = interrupted();
    // vpcd accepts the TCP connection at once but takes the card only when its reader is free: say so.
    const slow = setTimeout(() => {
      context.io.stderr.write(
        `minidriver: vpcd at ${host}:${port} has not taken the card after ${SLOW_CONNECT_MS / 1000} s (another card in that reader? pcscd restarting?); still trying, Ctrl-C to stop\n`,
      );
    }, SLOW_CONNECT_MS);
    let first: string;
    try {
      first = await Promise.race([server.connected.then(() => 'connected' as const), signal]).finally(() =>
        clearTimeout(slow),
      );
    } catch (error) {
      await server.close();
      lease.release();
      throw error;
    }
    if (first === 'connected') {
      context.print('connected to pcscd: the card is inserted');
      await signal;
    }
    await server.close();
    try {
      await served.flush();
    } finally {
      lease.release();
    }
    context.print(`stopped after ${apdus} APDUs`);
    return { card: card.name, host, port, stateFile, apdus };
  },
};
