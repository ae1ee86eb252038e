/**
 * `create-minidriver-card <dir> --name <CardName> [--atr <hex>] [--aid <hex>] [--package <npm name>]`,
 * also run as `npm create minidriver-card@latest <dir> -- --name <CardName>`.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { cardProfile, UsageError } from './card-options.js';
import { scaffoldCard } from './scaffold.js';

const USAGE = `usage: create-minidriver-card <dir> --name <CardName> [--atr <hex>] [--aid <hex>] [--package <npm name>]

Writes a standalone minidriver card package into <dir>: a plugin on @minidriver/card-kit for an example
card, the card's simulator, the conformance test, the manifest, build, test and release setup.

  --name <CardName>     the card's name, e.g. "Acme Token" (required)
  --atr <hex>           the card's ATR (default: 3B 0n + the name's letters, for the example simulator)
  --aid <hex>           the card application's AID, 5 to 16 bytes (default: F0 "MD" + the name's letters)
  --package <npm name>  the npm package name (default: minidriver-card-<name>)
  -h, --help            show this help`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        atr: { type: 'string' },
        aid: { type: 'string' },
        package: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(`one directory, not ${positionals.length}: ${positionals.join(' ')}`);
  if (values.name === undefined) throw new UsageError('--name <CardName> is required');
  const text = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const atr = text('atr');
  const aid = text('aid');
  const packageName = text('package');
  const profile = cardProfile({
    directory: positionals[0] ?? '',
    name: values.name as string,
    ...(atr === undefined ? {} : { atr }),
    ...(aid === undefined ? {} : { aid }),
    ...(packageName === undefined ? {} : { packageName }),
  });
  const result = await scaffoldCard(profile);
  process.stdout.write(
    [
      `Created ${profile.packageName} in ${result.directory} (${result.files.length} files)`,
      `  card:       ${profile.name}`,
      `  ATR:        ${profile.atr}`,
      `  AID:        ${profile.aid}`,
      `  simulator:  ${profile.simulatorName} (minidriver --sim ${profile.simulatorName} --plugin ${result.directory})`,
      '',
      'Next:',
      `  cd ${positionals[0]}`,
      '  npm install',
      '  npm test        # typecheck, the conformance suite on the simulator, publint and are-the-types-wrong',
      '',
    ].join('\n'),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError;
    process.stderr.write(`create-minidriver-card: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) process.stderr.write('run `create-minidriver-card --help` for usage\n');
    process.exitCode = usage ? 2 : 1;
  },
);
