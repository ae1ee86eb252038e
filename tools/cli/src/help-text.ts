/**
 * @packageDocumentation
 * The help of the program and of each command (usage, options, examples).
 */
import type { Command } from './commands/command.js';
import { GLOBAL_OPTIONS } from './global-options.js';
import type { OptionSpecs } from './parse/arguments.js';

function optionLines(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(
    ([name, spec]) =>
      [
        `--${name}${spec.placeholder ? ` ${spec.placeholder}` : ''}${spec.alias ? `, -${spec.alias}` : ''}`,
        spec.description,
      ] as const,
  );
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/** The help text of one command. */
export function commandHelp(command: Command): string {
  return [
    `usage: minidriver ${command.name}${command.usage ? ` ${command.usage}` : ''} [global options]`,
    '',
    command.summary,
    ...(Object.keys(command.options).length ? ['', 'options:', ...optionLines(command.options)] : []),
    ...(command.examples?.length ? ['', 'examples:', ...command.examples.map((line) => `  ${line}`)] : []),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
  ].join('\n');
}

/** The help text of the program. */
export function programHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((entry) => entry.name.length));
  return [
    'usage: minidriver <command> [options]',
    '',
    'Inspect, use and manage any smart card through its minidriver plugin.',
    '',
    'commands:',
    ...commands.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'examples:',
    '  minidriver --sim piv info               # the built-in simulated PIV card',
    '  minidriver help keygen                  # one command, with examples',
    '  minidriver certs --pem > certs.pem      # every certificate as PEM',
    '  source <(minidriver completion bash)    # tab completion',
    '',
    'Exit codes: 0 success, 1 card or PC/SC error, 2 usage error, 130 cancelled (Ctrl-C).',
    'Configuration: minidriver config path (JSON; defaults for --reader, --sim, --json, --trace, colour).',
  ].join('\n');
}
