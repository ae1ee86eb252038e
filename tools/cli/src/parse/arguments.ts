/**
 * A small command-line parser: `--name value`, `--name=value`, boolean flags, `--` to end
 * options, and positional arguments. Anything not declared is a {@link UsageError}.
 */
import { didYouMean } from './suggest.js';
import { UsageError } from './usage-error.js';

/** One option a command accepts. */
export interface OptionSpec {
  /** Takes a value (`string`) or is a flag (`boolean`). */
  readonly type: 'string' | 'boolean';
  /** One-letter alias without the dash (`h` for `-h`). */
  readonly alias?: string;
  /** Help text. */
  readonly description: string;
  /** Placeholder for the value in help (`<file>`). */
  readonly placeholder?: string;
}

/** Declared options by long name (without `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What {@link parseArguments} found. */
export interface ParsedArguments {
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** Every value of each string option, in order (for repeatable options such as `--plugin`). */
  readonly lists: Readonly<Record<string, readonly string[]>>;
}

/** Parses `argv` against `specs`. A repeated option keeps its last value in `options`, all of them in `lists`. */
export function parseArguments(argv: readonly string[], specs: OptionSpecs): ParsedArguments {
  const options: Record<string, string | boolean | undefined> = {};
  const lists: Record<string, string[]> = {};
  const setValue = (name: string, value: string) => {
    options[name] = value;
    if (!Object.hasOwn(lists, name)) lists[name] = [];
    (lists[name] as string[]).push(value);
  };
  const positionals: string[] = [];
  const byAlias = new Map(
    Object.entries(specs)
      .filter(([, spec]) => spec.alias !== undefined)
      .map(([name, spec]) => [spec.alias as string, name]),
  );
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    if (token === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    let name: string | undefined;
    let inlineValue: string | undefined;
    if (token.startsWith('--')) {
      const equals = token.indexOf('=');
      name = equals === -1 ? token.slice(2) : token.slice(2, equals);
      inlineValue = equals === -1 ? undefined : token.slice(equals + 1);
    } else if (/^-[A-Za-z]$/.test(token)) {
      name = byAlias.get(token.slice(1));
      if (name === undefined) throw new UsageError('unknown one-letter option (run `minidriver --help`)');
    } else {
      positionals.push(token);
      continue;
    }
    const spec = specs[name];
    if (spec === undefined) {
      throw new UsageError(
        `unknown option --${name}${didYouMean(name, Object.keys(specs)).replace(/"([^"]+)"/, '"--$1"')}`,
      );
    }
    if (spec.type === 'boolean') {
      if (inlineValue !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    if (inlineValue !== undefined) {
      setValue(name, inlineValue);
      continue;
    }
    const next = argv[index + 1];
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
      throw new UsageError(`--${name} needs a value${spec.placeholder ? ` ${spec.placeholder}` : ''}`);
    }
    setValue(name, next);
    index++;
  }
  return { options, positionals, lists };
}
