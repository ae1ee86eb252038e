/**
 * Test support: a simulated card served into pcscd by `minidriver sim serve` on a vpcd port (under the
 * cross-process port lock), until `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireVpcdPortLock } from '@minidriver/sim';
import { BIN, runCli } from './run-cli.js';

/** What `sim serve` prints once pcscd has taken the card. */
const CONNECTED_LINE = 'connected to pcscd: the card is inserted';

interface ReadersJson {
  readonly readers: readonly { readonly name: string; readonly cardPresent: boolean; readonly atr?: string }[];
}

/** A card in a vpcd reader. */
export interface ServedCard {
  readonly reader: string;
  /** What `sim serve` printed so far. */
  output(): string;
  /** Stops serving (Ctrl-C) and releases the port. */
  stop(): Promise<void>;
}

/** Serves the `--sim` card `card` (state in `stateDirectory`) on `port`; resolves once `sim serve` says pcscd took it and the reader shows its ATR. */
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
  // Wait for sim serve's own word that pcscd took the card (not merely for "card present": a stale
  // presence from an earlier card would let the next command run into SCARD_E_NO_SMARTCARD).
  const ready = await new Promise<boolean>((resolve) => {
    const check = () => {
      if (output.includes(CONNECTED_LINE)) finish(true);
    };
    const timer = setTimeout(() => finish(false), 30_000);
    const onExit = () => finish(output.includes(CONNECTED_LINE));
    function finish(result: boolean) {
      clearTimeout(timer);
      server.stdout?.off('data', check);
      server.off('exit', onExit);
      resolve(result);
    }
    server.stdout?.on('data', check);
    server.once('exit', onExit);
    check();
  });
  if (!ready) {
    await stop();
    throw new Error(`sim serve never connected the ${card} card to "${reader}": ${output}`);
  }
  const expected = await runCli(['--sim', card, 'readers', '--json'], { stateDirectory });
  const atr = (JSON.parse(expected.stdout) as ReadersJson).readers[0]?.atr;
  for (let attempt = 0; attempt < 120; attempt++) {
    const readers = await runCli(['readers', '--json'], { stateDirectory });
    if (
      readers.status === 0 &&
      (JSON.parse(readers.stdout) as ReadersJson).readers.some(
        (entry) => entry.name === reader && entry.cardPresent && entry.atr === atr,
      )
    ) {
      return { reader, output: () => output, stop };
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`the served ${card} card (ATR ${atr}) never appeared in "${reader}": ${output}`);
}
