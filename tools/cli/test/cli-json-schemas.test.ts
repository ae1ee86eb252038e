/**
 * One documented JSON shape per command: every command's `--json` document (and every error document)
 * from the built binary validates against its JSON Schema in schemas/, and every command has one.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIRECTORY, ensureBuilt, runCli, temporaryStateDirectory } from './run-cli.js';

const SCHEMAS = join(CLI_DIRECTORY, 'schemas');
const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, 'config.schema.json'), 'utf8')));
const validators = new Map<string, ValidateFunction>();
function schemaOf(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    const file =
      name === 'error' ? join(SCHEMAS, 'error.schema.json') : join(SCHEMAS, 'commands', `${name}.schema.json`);
    validate = ajv.compile(JSON.parse(readFileSync(file, 'utf8')));
    validators.set(name, validate);
  }
  return validate;
}

let stateDirectory: string;
const env = { PIN: '123456', PW3: '12345678' };
const run = (args: string[], input?: string) =>
  runCli([...args, '--json'], { stateDirectory, env, ...(input === undefined ? {} : { input }) });

beforeAll(() => {
  ensureBuilt();
  stateDirectory = temporaryStateDirectory();
}, 300_000);
afterAll(() => rmSync(stateDirectory, { recursive: true, force: true }));

async function expectShape(schema: string, args: string[], input?: string): Promise<unknown> {
  const result = await run(args, input);
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  const document = JSON.parse(result.stdout);
  const validate = schemaOf(schema);
  expect(validate(document), `${args.join(' ')}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return document;
}

describe('--json documents match their JSON Schema', () => {
  it('every command has a schema, and `minidriver schema <command>` prints it', async () => {
    const help = await runCli(['--help'], { stateDirectory });
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z0-9-]*) {2}/gm)].map((match) => match[1] as string);
    expect(commands.length).toBeGreaterThan(20);
    const files = readdirSync(join(SCHEMAS, 'commands')).map((name) => name.replace('.schema.json', ''));
    expect(files.sort()).toEqual([...commands].sort());
    const printed = await runCli(['schema', 'info'], { stateDirectory });
    expect(JSON.parse(printed.stdout).title).toBe('minidriver info --json');
    expect(JSON.parse((await runCli(['schema', 'config'], { stateDirectory })).stdout).title).toBe(
      'minidriver configuration file',
    );
  });

  it('inspection commands (PIV)', async () => {
    const piv = (...args: string[]) => ['--sim', 'piv', ...args];
    await expectShape('readers', piv('readers'));
    await expectShape('identify', piv('identify'));
    await expectShape('identify', ['identify', '--atr', '3b 02 14 50']);
    await expectShape('info', piv('info'));
    await expectShape('ls', piv('ls'));
    await expectShape('ls', piv('ls', 'mscp'));
    await expectShape('cat', piv('cat', 'cardid'));
    await expectShape('containers', piv('containers'));
    await expectShape('pin', piv('pin', 'status'));
    await expectShape('pin', piv('pin', 'verify', '--pin-env', 'PIN'));
    await expectShape('apdu', piv('apdu', '00a4040005a000000308'));
    await expectShape('piv', piv('piv', 'info'));
  });

  it('key commands (PIV)', async () => {
    const piv = (...args: string[]) => ['--sim', 'piv', ...args];
    await expectShape(
      'keygen',
      piv(
        'keygen',
        '--container',
        '9a',
        '--alg',
        'p256',
        '--admin-key',
        'default',
        '--pin-env',
        'PIN',
        '--self-signed',
        'Schema',
      ),
    );
    await expectShape(
      'keygen',
      piv('keygen', '--container', '9c', '--alg', 'p256', '--admin-key', 'default', '--touch-policy', 'always'),
    );
    await expectShape('certs', piv('certs'));
    await expectShape('certs', piv('certs', '--pem'));
    await expectShape('cat', piv('cat', 'mscp/ksc00', '--pem'));
    writeFileSync(join(stateDirectory, 'message'), 'hello');
    await expectShape(
      'sign',
      piv(
        'sign',
        '--container',
        '9a',
        '--hash',
        'sha256',
        '--in',
        join(stateDirectory, 'message'),
        '--out',
        join(stateDirectory, 'sig'),
        '--pin-env',
        'PIN',
      ),
    );
    await expectShape('csr', piv('csr', '--container', '9a', '--subject', 'CN=Schema', '--pin-env', 'PIN'));
    await expectShape('piv', piv('piv', 'attest', '9c'));
    const certificate = (JSON.parse((await run(piv('certs', '--pem'))).stdout) as { certificates: { pem: string }[] })
      .certificates[0]?.pem;
    writeFileSync(join(stateDirectory, 'cert.pem'), certificate as string);
    await expectShape(
      'import-cert',
      piv('import-cert', '--container', '9a', join(stateDirectory, 'cert.pem'), '--admin-key', 'default'),
    );
    await expectShape('pin', piv('pin', 'change', '--role', 'puk', '--pin-stdin'), '12345678\n87654321\n');
    await expectShape(
      'piv',
      piv('piv', 'set-retries', '4', '4', '--admin-key', 'default', '--pin-env', 'PIN', '--force'),
    );
    await expectShape(
      'piv',
      piv('piv', 'set-management-key', '--algorithm', '3des', '--generate', '--admin-key', 'default'),
    );
    await expectShape('rm-container', piv('rm-container', '9d', '--force'));
    await expectShape('piv', piv('piv', 'reset', '--force'));
    await expectShape('demo', ['demo']);
  });

  it('OpenPGP commands', async () => {
    const pgp = (...args: string[]) => ['--sim', 'openpgp', ...args];
    await expectShape('openpgp', pgp('openpgp', 'info'));
    await expectShape('openpgp', pgp('openpgp', 'keys'));
    await expectShape('openpgp', pgp('openpgp', 'cardholder', '--name', 'Doe<<Jane', '--admin-pin-env', 'PW3'));
    await expectShape('keygen', pgp('keygen', '--container', 'dec', '--alg', 'rsa2048', '--admin-pin-env', 'PW3'));
    await expectShape('openpgp', pgp('openpgp', 'reset', '--force'));
    await expectShape('demo', ['demo', '--sim', 'openpgp']);
  });

  it('meta commands', async () => {
    await expectShape('help', ['help', 'pin']);
    await expectShape('completion', ['completion', 'fish']);
    await expectShape('config', ['config', 'show']);
  });

  it('failures are the error document: usage (exit 2) and card (exit 1) errors', async () => {
    for (const args of [
      ['bogus'],
      ['--sim', 'piv', 'sign'],
      ['--sim', 'piv', 'pin', 'verify', '--pin-env', 'BAD'],
      ['--sim', 'piv', 'piv', 'attest', '9e'],
    ]) {
      const result = await runCli([...args, '--json'], { stateDirectory, env: { BAD: '000000' } });
      expect(result.status).not.toBe(0);
      const validate = schemaOf('error');
      expect(validate(JSON.parse(result.stdout)), `${args.join(' ')}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});
