/**
 * The built `minidriver` binary as a person meets it: --version, help <command> with examples, "did you
 * mean" for typos, shell completion (bash, zsh, fish, each run in the real shell), the configuration file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_DIRECTORY, ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

let stateDirectory: string;
let home: string;
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { stateDirectory, env: { XDG_CONFIG_HOME: join(home, 'config'), ...env } });

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
  home = mkdtempSync(join(tmpdir(), 'minidriver-cli-home-'));
}, 300_000);

afterAll(() => {
  rmSync(stateDirectory, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('version and help', () => {
  it('--version and -V print the package version', async () => {
    const version = JSON.parse(readFileSync(join(CLI_DIRECTORY, 'package.json'), 'utf8')).version;
    for (const flag of ['--version', '-V']) {
      const result = await run([flag]);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(`minidriver ${version}\n`);
    }
    const json = await run(['--version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'minidriver', version, node: process.version });
  });

  it('help <command> is the command help, with examples; help alone is the program help', async () => {
    const help = await run(['help', 'keygen']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: minidriver keygen /);
    expect(help.stdout).toContain('examples:');
    expect(help.stdout).toBe((await run(['keygen', '--help'])).stdout);
    const program = await run(['help']);
    expect(program.stdout).toMatch(/^usage: minidriver <command>/);
    expect(program.stdout).toContain('examples:');
    const typo = await run(['help', 'kegen']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown command (did you mean "keygen"?)');
  });
});

describe('did you mean', () => {
  it('suggests the command, option or subcommand meant by a typo (exit 2)', async () => {
    const command = await run(['cetrs']);
    expect(command.status).toBe(2);
    expect(command.stderr).toBe(
      'minidriver: usage error: unknown command (did you mean "certs"?) (run `minidriver --help`)\n',
    );
    const option = await run(['--sim', 'piv', 'keygen', '--contaner', '1']);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('unknown option --contaner (did you mean "--container"?)');
    const shell = await run(['completion', 'bsh']);
    expect(shell.stderr).toContain('(did you mean "bash"?)');
  });
});

describe('shell completion', () => {
  const script = (shell: string) =>
    spawnSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' }).stdout;

  it('bash: completes commands, subcommands, options and option values', () => {
    const file = join(home, 'minidriver.bash');
    writeFileSync(file, script('bash'));
    const complete = (words: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _minidriver; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      )
        .stdout.trim()
        .split('\n');
    expect(complete('minidriver ce')).toEqual(['certs']);
    expect(complete('minidriver pin ch')).toEqual(['change']);
    expect(complete('minidriver keygen --cont')).toEqual(['--container']);
    expect(complete('minidriver --sim ""')).toEqual(['piv', 'openpgp']);
    expect(complete('minidriver --sim piv keygen --alg p')).toEqual(['p256', 'p384']);
  });

  it.skipIf(!process.env['CI'] && spawnSync('zsh', ['--version']).status !== 0)(
    'zsh: the script loads and offers the words of each position (zsh itself filters them by prefix)',
    () => {
      const file = join(home, 'minidriver.zsh');
      writeFileSync(file, script('zsh'));
      const complete = (words: string) => {
        const result = spawnSync(
          'zsh',
          [
            '-f',
            '-c',
            `source ${file}; setopt ksharrays; COMP_WORDS=(${words}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _minidriver; print -l "\${COMPREPLY[@]}"`,
          ],
          { encoding: 'utf8', env: { ...process.env, HOME: home } },
        );
        expect(result.stderr).toBe('');
        return result.stdout.trim().split('\n');
      };
      expect(complete('minidriver ""')).toEqual(expect.arrayContaining(['certs', 'keygen', 'completion']));
      expect(complete('minidriver pin ""')).toEqual(['verify', 'change', 'unblock', 'status']);
      expect(complete('minidriver --sim ""')).toEqual(['piv', 'openpgp']);
    },
  );

  it.skipIf(!process.env['CI'] && spawnSync('fish', ['--version']).status !== 0)(
    'fish: complete -C lists commands, subcommands and option values',
    () => {
      const file = join(home, 'minidriver.fish');
      writeFileSync(file, script('fish'));
      const complete = (line: string) =>
        spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], {
          encoding: 'utf8',
          env: { ...process.env, HOME: home },
        })
          .stdout.trim()
          .split('\n')
          .map((entry) => entry.split('\t')[0]);
      expect(complete('minidriver ce')).toEqual(['certs']);
      expect(complete('minidriver pin ch')).toEqual(['change']);
      expect(complete('minidriver --sim ')).toEqual(expect.arrayContaining(['piv', 'openpgp']));
    },
  );
});

describe('configuration file', () => {
  it('gives defaults for --sim and --json; the command line wins; config path/show/check report it', async () => {
    const directory = join(home, 'config', 'minidriver');
    spawnSync('mkdir', ['-p', directory]);
    writeFileSync(join(directory, 'config.json'), JSON.stringify({ sim: 'piv', json: true }));
    const info = await run(['info']);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ simulated: true, plugin: { card: 'YubiKey 5' } });
    const other = await run(['--sim', 'openpgp', 'info']);
    expect(JSON.parse(other.stdout).plugin.package).toBe('@minidriver/card-openpgp');
    const path = await run(['config', 'path']);
    expect(JSON.parse(path.stdout)).toMatchObject({ path: join(directory, 'config.json'), valid: true });
    const show = await run(['config', 'show']);
    expect(JSON.parse(show.stdout).settings).toEqual({ sim: 'piv', json: true });
    rmSync(join(directory, 'config.json'));
  });

  it('a malformed file is a usage error naming the file, line and column; --config names another file', async () => {
    const file = join(home, 'bad.json');
    writeFileSync(file, '{\n  "sim": "piv",\n}\n');
    const bad = await run(['--config', file, 'info']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      `minidriver: usage error: config file ${file}: line 3, column 1: not valid JSON (unexpected "}")\n`,
    );
    const fromEnv = await run(['info'], { MINIDRIVER_CONFIG: file });
    expect(fromEnv.status).toBe(2);
    writeFileSync(file, '{"sim": "piv", "colour": "never"}');
    const key = await run(['--config', file, 'info']);
    expect(key.stderr).toContain('unknown key "colour" (did you mean "color"?)');
    // Help and version do not need a configuration: they work with a broken one.
    expect((await run(['--help'], { MINIDRIVER_CONFIG: file })).status).toBe(0);
  });
});
