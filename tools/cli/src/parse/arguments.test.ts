import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OptionSpecs, parseArguments } from './arguments.js';
import { UsageError } from './usage-error.js';

const SPECS: OptionSpecs = {
  container: { type: 'string', description: 'index' },
  json: { type: 'boolean', description: 'json' },
  help: { type: 'boolean', alias: 'h', description: 'help' },
};

describe('parseArguments', () => {
  it('reads --name value, --name=value, flags, aliases and positionals', () => {
    expect(parseArguments(['sign', '--container', '3', '--json', 'x', '-h'], SPECS)).toEqual({
      options: { container: '3', json: true, help: true },
      positionals: ['sign', 'x'],
      lists: { container: ['3'] },
    });
    expect(parseArguments(['--container=07'], SPECS).options['container']).toBe('07');
  });

  it('keeps the last value of a repeated option, and every value in lists', () => {
    const parsed = parseArguments(['--container', '1', '--container=2', '--container', '3'], SPECS);
    expect(parsed.options['container']).toBe('3');
    expect(parsed.lists).toEqual({ container: ['1', '2', '3'] });
  });

  it('treats everything after -- as positional', () => {
    expect(parseArguments(['--', '--json', '-h'], SPECS)).toEqual({
      options: {},
      positionals: ['--json', '-h'],
      lists: {},
    });
  });

  it('refuses unknown options, missing values and values on flags with a UsageError', () => {
    expect(() => parseArguments(['--nope'], SPECS)).toThrow(UsageError);
    expect(() => parseArguments(['-x'], SPECS)).toThrow(UsageError);
    expect(() => parseArguments(['--container'], SPECS)).toThrow('--container needs a value');
    expect(() => parseArguments(['--container', '--json'], SPECS)).toThrow(UsageError);
    expect(() => parseArguments(['--json=yes'], SPECS)).toThrow('--json takes no value');
  });

  it('never throws anything but UsageError, and keeps every non-option token in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string().filter((token) => !token.startsWith('-')),
            fc.constantFrom('--json', '--container', '-h', '--', '--x=1'),
          ),
        ),
        (argv) => {
          try {
            const parsed = parseArguments(argv, SPECS);
            const plain = argv.filter((token) => !token.startsWith('-'));
            if (!argv.includes('--') && !argv.includes('--container')) expect(parsed.positionals).toEqual(plain);
          } catch (error) {
            expect(error).toBeInstanceOf(UsageError);
          }
        },
      ),
    );
  });
});
