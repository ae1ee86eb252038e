/**
 * Prompts in a real terminal: the built `minidriver` runs in a tmux pane (send-keys types, capture-pane
 * reads the screen). Hidden PIN input that names the card, the PIN and its tries; the new PIN asked twice;
 * the typed confirmation of destructive commands; Ctrl-C at a prompt (exit 130); tab completion in bash.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithTools } from '@minidriver/sim/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, ensureBuilt } from './run-cli.js';

describeWithTools(['tmux', 'bash'], 'minidriver in a terminal (tmux)', () => {
  let home: string;
  let session: string;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', session).stdout;
  const type = (...keys: string[]) => tmux('send-keys', '-t', session, ...keys);
  const typeLine = (text: string) => {
    type('-l', text);
    type('Enter');
  };
  async function waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}:\n${text}`);
      await sleep(100);
    }
  }
  /** Runs a command line and waits for it to end; the screen shows `EXIT=<code>` after it. */
  let runs = 0;
  async function command(line: string): Promise<void> {
    runs++;
    typeLine(`clear; echo "RUN-${runs} START"; ${line}; echo "RUN-${runs} EXIT=$?"`);
    // Only once the screen is cleared and this run started can a prompt on it be this run's.
    await waitFor(new RegExp(`^RUN-${runs} START$`, 'm'));
  }
  const exitCode = async (): Promise<number> => {
    const marker = new RegExp(`^RUN-${runs} EXIT=(\\d+)$`, 'm');
    return Number((await waitFor(marker)).match(marker)?.[1]);
  };

  beforeAll(async () => {
    ensureBuilt();
    home = mkdtempSync(join(tmpdir(), 'minidriver-tmux-'));
    session = `minidriver-test-${process.pid}`;
    // `minidriver` on the PATH of the pane, as a user has it.
    writeFileSync(
      join(home, 'minidriver'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`,
    );
    chmodSync(join(home, 'minidriver'), 0o755);
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '220',
      '-y',
      '50',
      `env -i HOME=${home} PATH=${home}:/usr/bin:/bin TERM=xterm NO_COLOR=1 MINIDRIVER_STATE_DIR=${home}/state XDG_CONFIG_HOME=${home}/config bash --norc --noprofile`,
    );
    expect(started.status, started.stderr).toBe(0);
    typeLine("PS1='$ '");
  }, 300_000);

  afterAll(async () => {
    tmux('kill-server');
    await sleep(200);
    rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('asks the PIN hidden, naming the card, the PIN and its tries left', async () => {
    await command('minidriver --sim piv pin verify');
    await waitFor(/PIN for YubiKey 5 in "Simulated PIV \(built-in\)" \(3 tries left\): $/m);
    typeLine('123456');
    expect(await exitCode()).toBe(0);
    const text = screen();
    expect(text).toContain('PIN verified');
    expect(text).not.toContain('123456');
  });

  it('warns on the last try', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      await command('minidriver --sim piv pin verify');
      await waitFor(/PIN for YubiKey 5.*: $/m);
      typeLine('000000');
      expect(await exitCode()).toBe(1);
    }
    await command('minidriver --sim piv pin verify');
    await waitFor(/\(1 try left: a wrong one blocks it\): $/m);
    typeLine('123456');
    expect(await exitCode()).toBe(0);
  });

  it('asks the new PIN twice: different entries change nothing, equal ones change it', async () => {
    await command('minidriver --sim piv pin change');
    await waitFor(/current PIN for YubiKey 5.*: $/m);
    typeLine('123456');
    await waitFor(/new PIN for YubiKey 5.*: $/m);
    typeLine('654321');
    await waitFor(/new PIN again: $/m);
    typeLine('654329');
    expect(await exitCode()).toBe(2);
    expect(screen()).toContain('the two new PIN entries differ: nothing was changed');
    await command('minidriver --sim piv pin change');
    await waitFor(/current PIN for YubiKey 5.*: $/m);
    typeLine('123456');
    await waitFor(/new PIN for YubiKey 5.*: $/m);
    typeLine('654321');
    await waitFor(/new PIN again: $/m);
    typeLine('654321');
    expect(await exitCode()).toBe(0);
    expect(screen()).toContain('PIN changed');
    expect(screen()).not.toMatch(/654321|123456/);
  });

  it('Ctrl-C at a prompt cancels: SCARD_W_CANCELLED_BY_USER, exit 130, nothing changed', async () => {
    await command('minidriver --sim piv pin verify');
    await waitFor(/PIN for YubiKey 5.*: $/m);
    type('-l', '12');
    type('C-c');
    expect(await exitCode()).toBe(130);
    expect(screen()).toContain(
      'SCARD_W_CANCELLED_BY_USER (0x8010006e): cancelled at the prompt (Ctrl-C): nothing was changed',
    );
  });

  it('a destructive command shows what it destroys and goes on only when the word is typed', async () => {
    await command('minidriver --sim piv keygen --container 9a --alg p256 --admin-key default');
    expect(await exitCode()).toBe(0);
    await command('minidriver --sim piv keygen --container 9a --alg p384 --admin-key default');
    await waitFor(
      /This destroys the ECDSA 256 key in container 0 \(9a\) and its certificate \(the new key replaces them\)\.\nType "yes" to go on: $/m,
    );
    typeLine('no');
    expect(await exitCode()).toBe(130);
    expect(screen()).toContain('not confirmed: nothing was changed');
    await command('minidriver --sim piv keygen --container 9a --alg p384 --admin-key default');
    await waitFor(/Type "yes" to go on: $/m);
    typeLine('yes');
    expect(await exitCode()).toBe(0);
    expect(screen()).toContain('-----BEGIN PUBLIC KEY-----');
    await command('minidriver --sim piv piv reset');
    await waitFor(/Type "reset" to go on: $/m);
    type('C-c');
    expect(await exitCode()).toBe(130);
    await command('minidriver --sim piv piv reset');
    await waitFor(/Type "reset" to go on: $/m);
    typeLine('reset');
    expect(await exitCode()).toBe(0);
    expect(screen()).toContain('PIV application reset');
  });

  it('tab completion in bash: commands, subcommands, option values', async () => {
    await command('source <(minidriver completion bash)');
    expect(await exitCode()).toBe(0);
    type('-l', 'minidriver ce');
    type('Tab');
    await waitFor(/\$ minidriver certs\s*$/m);
    type('C-u');
    type('-l', 'minidriver piv set-');
    type('Tab');
    await waitFor(/\$ minidriver piv set-$/m);
    type('Tab');
    type('Tab');
    await waitFor(/set-management-key\s+set-retries/);
    type('C-u');
    type('-l', 'minidriver --sim op');
    type('Tab');
    await waitFor(/\$ minidriver --sim openpgp\s*$/m);
    type('C-u');
  });
});
