/**
 * Test support shared by the OpenPGP interop suites (sim/openpgp-interop.test.ts,
 * test/openpgp-plugin-interop.test.ts): running the real clients without blocking the vpcd bridge, the
 * tools check, the wait for the card in the reader, a throwaway GnuPG home, and PC/SC connections for the
 * plugin. Not exported from the package.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  waitForReaderState,
  withReaderConnection as withConnectionTo,
  withPluginSession as withReaderPluginSession,
} from '@minidriver/conformance/interop';
import type { CardSession, CardSessionOptions } from '@minidriver/core';
import type { PcscCard } from '@minidriver/pcsc';
import { describeWithTools, runTool, type ToolRun } from '@minidriver/sim/testing';
import type { MinidriverPlugin } from '@minidriver/spec';
import { afterAll, beforeAll } from 'vitest';

/**
 * The vpcd reader (and its card socket port) the OpenPGP interop suites use. The port is shared with the
 * PIV interop tests: everyone takes the lock file /tmp/minidriver-vpcd-35964.lock first.
 */
export const READER = 'Virtual PCD 00 01';
export const PORT = 35964;
/** The tools every OpenPGP interop suite needs. */
const TOOLS = ['pcscd', 'gpg', 'gpgconf', 'openpgp-tool', 'pkcs15-tool', 'opensc-tool'];
/** The start of the simulator's ATR as opensc-tool prints it. */
const ATR_PREFIX = '3b:da:18:ff';

/** Runs a client (120 s at most) in `env` without blocking the vpcd bridge, which answers the card's APDUs. */
export const run = (command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ToolRun> =>
  runTool(command, args, { env, timeoutMs: 120_000 });

/**
 * A suite that needs pcscd, GnuPG and OpenSC (plus `extraTools`): skipped with a reason when one is
 * missing, a failure instead with CI=true.
 */
export function describeInterop(name: string, extraTools: readonly string[], body: () => void): void {
  describeWithTools([...TOOLS, ...extraTools], name, body);
}

/**
 * Polls opensc-tool (every 250 ms, up to `attempts` times) until pcscd has powered the simulated card in
 * READER. Returns the last ATR seen (lower case), for the caller to assert on.
 */
export async function waitForOpenPgpCard(attempts: number): Promise<string> {
  let atr = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    atr = (await run('opensc-tool', ['--reader', READER, '--atr'])).stdout.toLowerCase();
    if (atr.includes(ATR_PREFIX)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return atr;
}

export interface GnupgHome {
  readonly home: string;
  /** The environment for gpg: GNUPGHOME and the C locale (the tests match English output). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * A fresh GnuPG home (made under the temp directory with `prefix`) whose scdaemon uses READER through
 * PC/SC only, lets the card go after a second, and takes PINs through loopback pinentry.
 */
export function createGnupgHome(prefix: string): GnupgHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(home, 'scdaemon.conf'), `disable-ccid\nreader-port ${READER}\ncard-timeout 1\n`);
  writeFileSync(join(home, 'gpg-agent.conf'), 'allow-loopback-pinentry\n');
  writeFileSync(join(home, 'gpg.conf'), 'pinentry-mode loopback\n');
  return { home, env: { ...process.env, GNUPGHOME: home, LC_ALL: 'C', LANGUAGE: 'C' } };
}

/**
 * A GnuPG home (createGnupgHome) for the current suite: made in `beforeAll`; in `afterAll` its gpg-agent
 * and scdaemon are stopped and it is removed. Register it after the card is served: its setup then runs
 * with the card in the reader, and its teardown before the card is taken out.
 */
export function gnupgHomeForSuite(prefix: string): GnupgHome {
  let made: GnupgHome | undefined;
  beforeAll(() => {
    made = createGnupgHome(prefix);
  });
  afterAll(async () => {
    if (made === undefined) return;
    try {
      await run('gpgconf', ['--kill', 'all'], made.env);
    } finally {
      rmSync(made.home, { recursive: true, force: true });
    }
  });
  const current = () => {
    if (made === undefined) throw new Error('the GnuPG home is made in beforeAll');
    return made;
  };
  return {
    get home() {
      return current().home;
    },
    get env() {
      return current().env;
    },
  };
}

/**
 * Polls pcscd (every 250 ms, up to 60 s) until READER is empty. Between two served cards pcscd must see
 * the reader empty first: a card served within one presence poll of the last one is never powered up.
 */
export const waitForEmptyReader = (): Promise<void> => waitForReaderState(READER, false);

/** Connects to the card in READER through pcscd (shared), runs `use`, and closes card and context. */
export const withReaderConnection = <T>(use: (card: PcscCard) => Promise<T>): Promise<T> =>
  withConnectionTo(READER, use);

/**
 * Opens `plugin` on the card in READER through pcscd (with `sessionOptions`), runs `use`, closes session,
 * card and context.
 */
export const withPluginSession = <T>(
  plugin: MinidriverPlugin,
  use: (session: CardSession) => Promise<T>,
  sessionOptions: CardSessionOptions = {},
): Promise<T> => withReaderPluginSession(plugin, READER, use, sessionOptions);

/** How gpg gets the PIN through loopback pinentry: from a file, or on the command line. */
export type GpgPassphrase = { readonly file: string } | { readonly value: string };

/** `gpg --detach-sign` of `file` (to `file`.sig) by `localUser`, the PIN through loopback pinentry. */
export function gpgDetachSign(
  env: NodeJS.ProcessEnv,
  localUser: string,
  file: string,
  passphrase: GpgPassphrase,
): Promise<ToolRun> {
  const passphraseArguments =
    'file' in passphrase ? ['--passphrase-file', passphrase.file] : ['--passphrase', passphrase.value];
  return run(
    'gpg',
    [
      '--batch',
      '--yes',
      '--pinentry-mode',
      'loopback',
      ...passphraseArguments,
      '--local-user',
      localUser,
      '--detach-sign',
      file,
    ],
    env,
  );
}

/** `gpg --verify` of `file`.sig against `file`, with the status lines (GOODSIG, VALIDSIG ...) on stdout. */
export function gpgVerify(env: NodeJS.ProcessEnv, file: string): Promise<ToolRun> {
  return run('gpg', ['--batch', '--status-fd', '1', '--verify', `${file}.sig`, file], env);
}

/**
 * Drives `gpg --command-fd 0 --status-fd 1` interactively: every GET_LINE / GET_BOOL / GET_HIDDEN
 * prompt is answered by `answer(keyword)`; gpg's prompts come in an order we do not hard-code.
 */
export function driveGpg(
  args: string[],
  env: NodeJS.ProcessEnv,
  answer: (keyword: string) => string,
): Promise<ToolRun> {
  return new Promise((resolve) => {
    const options: SpawnOptions = { env, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn('gpg', ['--no-tty', '--command-fd', '0', '--status-fd', '1', ...args], options);
    let stdout = '';
    let stderr = '';
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const match = /^\[GNUPG:\] (GET_LINE|GET_BOOL|GET_HIDDEN) (\S+)/.exec(line);
        if (match) child.stdin!.write(`${answer(match[2]!)}\n`);
        newline = buffered.indexOf('\n');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ code: status ?? -1, stdout, stderr, output: `${stdout}${stderr}` });
    });
  });
}

/** Who `gpg --card-edit generate` makes the keys for. */
export interface GpgCardGenerateOptions {
  readonly pin: string;
  readonly name: string;
  readonly email: string;
}

/** The gpg run of {@link gpgCardGenerate} and every prompt keyword gpg asked, in order (for failure messages). */
export interface GpgCardGenerateResult {
  readonly result: ToolRun;
  readonly prompts: readonly string[];
}

/**
 * `gpg --card-edit`, then `admin`, `generate`, `quit`: generates the three keys on the card in READER (no
 * off-card encryption key backup, replacing the keys there, no expiry, the user ID from `options`), the PINs
 * through loopback pinentry.
 */
export async function gpgCardGenerate(
  env: NodeJS.ProcessEnv,
  options: GpgCardGenerateOptions,
): Promise<GpgCardGenerateResult> {
  const prompts: string[] = [];
  let cardPrompts = 0;
  const result = await driveGpg(['--pinentry-mode', 'loopback', '--card-edit'], env, (keyword) => {
    prompts.push(keyword);
    switch (keyword) {
      case 'cardedit.prompt':
        cardPrompts += 1;
        return cardPrompts === 1 ? 'admin' : cardPrompts === 2 ? 'generate' : 'quit';
      case 'cardedit.genkeys.backup_enc':
        return 'n';
      case 'cardedit.genkeys.replace_keys':
        return 'y';
      case 'passphrase.enter':
        return options.pin;
      case 'keygen.valid':
        return '0';
      case 'keygen.valid.okay':
        return 'y';
      case 'keygen.name':
        return options.name;
      case 'keygen.email':
        return options.email;
      case 'keygen.userid.cmd':
        return 'O';
      default:
        // keygen.comment and anything else: the empty answer (gpg's default).
        return '';
    }
  });
  return { result, prompts };
}
