/**
 * Fidelity: the simulator served through pcscd + vpcd ("Virtual PCD 00 01", port 35964) and driven by
 * independent clients — GnuPG's scdaemon (card status, on-card key generation, signing, verification)
 * and OpenSC (openpgp-tool, pkcs15-tool). Skipped with a reason when a tool or pcscd is missing; with
 * CI=true a missing tool fails the run. The port is shared with the PIV interop tests: both take the
 * lock file /tmp/minidriver-vpcd-35964.lock first.
 */
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcscdRunning, serveVpcd, toolAvailable, type VpcdServer } from '@minidriver/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from './openpgp-simulator.js';
import { acquireVpcdPortLock } from './vpcd-port-lock.js';

const PORT = 35964;
const READER = 'Virtual PCD 00 01';
const TOOLS = ['gpg', 'gpgconf', 'openpgp-tool', 'pkcs15-tool', 'opensc-tool'];
// With loopback pinentry gpg asks every PIN with the same prompt (passphrase.enter) and does not say
// which one it wants, so this card gets PW1 = PW3: every answer is right.
const PIN = '12345678';

function missingReason(): string | undefined {
  if (!pcscdRunning()) return 'needs a running pcscd';
  const missing = TOOLS.filter((tool) => !toolAvailable(tool));
  return missing.length ? `needs ${missing.join(', ')}` : undefined;
}

const reason = missingReason();
if (reason && process.env['CI'] === 'true')
  throw new Error(`OpenPGP interop: ${reason} (CI=true: a missing tool fails)`);
const suite = reason ? describe.skip : describe;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Run {
  const result = spawnSync(command, args, { env, input, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/**
 * Drives `gpg --command-fd 0 --status-fd 1` interactively: every GET_LINE / GET_BOOL / GET_HIDDEN
 * prompt is answered by `answer(keyword)`; gpg's prompts come in an order we do not hard-code.
 */
function driveGpg(
  args: string[],
  env: NodeJS.ProcessEnv,
  answer: (keyword: string) => string,
): Promise<Run> {
  return new Promise((resolve) => {
    const options: SpawnOptions = { env, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn('gpg', ['--command-fd', '0', '--status-fd', '1', ...args], options);
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
      resolve({ status, stdout, stderr });
    });
  });
}

suite(`OpenPGP simulator through pcscd (${READER}) with GnuPG and OpenSC${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let releaseLock: (() => void) | undefined;
  let server: VpcdServer | undefined;
  let home = '';
  let env: NodeJS.ProcessEnv = {};
  const commands: string[] = [];
  const card = new OpenPgpSimulator({ serial: 0x12345678, manufacturer: 0xffff, pw1: PIN, pw3: PIN });

  beforeAll(async () => {
    releaseLock = await acquireVpcdPortLock(PORT);
    server = serveVpcd(card, { port: PORT, onApdu: (command) => commands.push(Buffer.from(command).toString('hex')) });
    await server.connected;
    // Wait until pcscd has polled the reader and powered the card.
    for (let attempt = 0; attempt < 40; attempt++) {
      if (run('opensc-tool', ['--reader', READER, '--atr']).stdout.toLowerCase().includes('3b:da:18:ff')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    home = mkdtempSync(join(tmpdir(), 'openpgp-sim-gnupg-'));
    writeFileSync(join(home, 'scdaemon.conf'), `disable-ccid\nreader-port ${READER}\ncard-timeout 1\n`);
    writeFileSync(join(home, 'gpg-agent.conf'), 'allow-loopback-pinentry\n');
    writeFileSync(join(home, 'gpg.conf'), 'pinentry-mode loopback\n');
    env = { ...process.env, GNUPGHOME: home, LC_ALL: 'C', LANGUAGE: 'C' };
  }, 330_000);

  afterAll(async () => {
    if (home) {
      run('gpgconf', ['--kill', 'all'], env);
      rmSync(home, { recursive: true, force: true });
    }
    await server?.close();
    releaseLock?.();
  });

  it('gpg --card-status reads the AID, version, serial, PIN counters and empty key slots', () => {
    const status = run('gpg', ['--card-status'], env);
    expect(status.stderr).not.toMatch(/error|failed/i);
    expect(status.stdout).toMatch(/Application ID \.+: D2760001240103 ?04FFFF123456780000/);
    expect(status.stdout).toMatch(/Version \.+: 3\.4/);
    expect(status.stdout).toMatch(/Serial number \.+: 12345678/);
    expect(status.stdout).toMatch(/PIN retry counter : 3 0 3/);
    expect(status.stdout).toMatch(/Signature key \.+: \[none\]/);
    expect(status.stdout).toMatch(/Key attributes \.+: rsa2048 rsa2048 rsa2048/);
  });

  it('generates the three keys on the card with gpg --card-edit (admin, generate)', async () => {
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
          return PIN;
        case 'keygen.valid':
          return '0';
        case 'keygen.valid.okay':
          return 'y';
        case 'keygen.name':
          return 'Simulated Card';
        case 'keygen.email':
          return 'sim@example.org';
        case 'keygen.comment':
          return '';
        case 'keygen.userid.cmd':
          return 'O';
        default:
          return '';
      }
    });
    expect(result.stdout, `${result.stderr}\nprompts: ${prompts.join(', ')}`).toMatch(/KEY_CREATED B/);
    const status = run('gpg', ['--card-status'], env);
    expect(status.stdout).not.toMatch(/Signature key \.+: \[none\]/);
    expect(status.stdout).toMatch(/Signature counter : \d+/);
  }, 300_000);

  it('signs a file with the card key and gpg --verify accepts the signature', () => {
    const file = join(home, 'message.txt');
    const pinFile = join(home, 'pin.txt');
    writeFileSync(file, 'signed by the simulated OpenPGP card\n');
    writeFileSync(pinFile, `${PIN}\n`);
    const signed = run(
      'gpg',
      [
        '--batch',
        '--yes',
        '--pinentry-mode',
        'loopback',
        '--passphrase-file',
        pinFile,
        '--local-user',
        'sim@example.org',
        '--detach-sign',
        file,
      ],
      env,
    );
    expect(signed.status, signed.stderr).toBe(0);
    const verified = run('gpg', ['--batch', '--status-fd', '1', '--verify', `${file}.sig`, file], env);
    expect(verified.stdout, verified.stderr).toMatch(/\[GNUPG:\] GOODSIG/);
    expect(verified.stdout).toMatch(/\[GNUPG:\] VALIDSIG/);
  }, 120_000);

  it('openpgp-tool reads card and key information once scdaemon lets the reader go', () => {
    run('gpgconf', ['--kill', 'scdaemon'], env);
    const result = run('openpgp-tool', ['--reader', READER, '--card-info', '--key-info']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/AID:\s+d2:76:00:01:24:01:03:04:ff:ff:12:34:56:78:00:00/);
    expect(result.stdout).toMatch(/Version:\s+3\.4/);
    expect(result.stdout).toMatch(/Serial number:\s+12345678/);
    expect(result.stdout).toMatch(/Sig Algorithm:\s+RSA2048/);
    expect(result.stdout).toMatch(/Sig Fingerprint:\s+([0-9a-f]{2}:){19}[0-9a-f]{2}/);
  });

  it('pkcs15-tool --list-keys shows the three keys gpg generated', () => {
    const result = run('pkcs15-tool', ['--reader', READER, '--list-keys']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Signature key/);
    expect(result.stdout).toMatch(/Encryption key/);
    expect(result.stdout).toMatch(/Authentication key/);
    expect(result.stdout).toMatch(/ModLength\s+: 2048/);
  });

  it('sent only commands of the OpenPGP card edge once the application was found', () => {
    // Every INS a client used, for the record; all of them are implemented by the simulator.
    const instructions = new Set(commands.map((command) => command.slice(2, 4)));
    for (const ins of ['a4', 'ca', '20', '47', 'da', '2a', '88', 'a5']) expect(instructions).toContain(ins);
  });
});
