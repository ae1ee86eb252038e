/**
 * @module `minidriver sim serve <card> [--vpcd host:port] [--state file]`: puts a simulated card into
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
  usage: 'serve <piv|openpgp> [--vpcd host:port] [--state file]',
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
    const card = await createSimulator(name);
    const stateFile =
      stringOption(context, 'state') ?? simulatorStateFile(name, process.env, context.config.stateDirectory);
    const lease = await openCardState(card, stateFile);
    const restored = lease.restored;
    const served = autosaveCard(card, stateFile);
    let apdus = 0;
    const server = serveVpcd(served, { host, port, onApdu: () => apdus++ });
    const reader = `Virtual PCD 00 ${String(port - VPCD_DEFAULT_PORT).padStart(2, '0')}`;
    context.print(
      `serving simulated ${card.name} card (${restored ? 'state restored from' : 'fresh, state saved to'} ${stateFile})`,
    );
    context.print(`vpcd ${host}:${port} — usually reader "${reader}"; stop with Ctrl-C`);
    const signal = interrupted();
    const first = await Promise.race([server.connected.then(() => 'connected' as const), signal]);
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
