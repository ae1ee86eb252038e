/**
 * Test support: a simulated card served into pcscd by `minidriver sim serve` on a vpcd port (under the
 * cross-process port lock), until `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireVpcdPortLock } from '@minidriver/sim';
import { BIN, runCli } from './run-cli.js';

/** A card in a vpcd reader. */
export interface ServedCard {
  readonly reader: string;
  /** What `sim serve` printed so far. */
  output(): string;
  /** Stops serving (Ctrl-C) and releases the port. */
  stop(): Promise<void>;
}

/** Serves the `--sim` card `card` (state in `stateDirectory`) on `port`; resolves once pcscd shows it. */
export async function serveCard(card: 'piv' | 'openpgp', port: number, stateDirectory: string): Promise<ServedCard> {
  const reader = `Virtual PCD 00 ${(port - 35963).toString(16).toUpperCase().padStart(2, '0')}`;
  const release = await acquireVpcdPortLock(port);
  let output = '';
  const server: ChildProcess = spawn(process.execPath, [BIN, 'sim', 'serve', card, '--vpcd', `127.0.0.1:${port}`], {
    env: { ...process.env, NO_COLOR: '1', MINIDRIVER_STATE_DIR: stateDirectory },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  server.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    }
    release();
  };
  for (let attempt = 0; attempt < 120; attempt++) {
    const readers = await runCli(['readers', '--json'], { stateDirectory });
    if (
      readers.status === 0 &&
      JSON.parse(readers.stdout).readers.some(
        (entry: { name: string; cardPresent: boolean }) => entry.name === reader && entry.cardPresent,
      )
    ) {
      return { reader, output: () => output, stop };
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`the served ${card} card never appeared in "${reader}": ${output}`);
}
