import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../parse/usage-error.js';
import { CONFIG_KEYS, configFilePath, loadConfig, parseConfig } from './config-file.js';

const schema = JSON.parse(readFileSync(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true }).compile(schema);
const directory = mkdtempSync(join(tmpdir(), 'minidriver-config-test-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function errorOf(text: string): string {
  try {
    parseConfig(text, 'c.json');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('configuration file', () => {
  it('is found through --config, MINIDRIVER_CONFIG, XDG_CONFIG_HOME, then ~/.config', () => {
    expect(configFilePath({}, '/x/c.json')).toBe('/x/c.json');
    expect(configFilePath({ MINIDRIVER_CONFIG: '/m.json', XDG_CONFIG_HOME: '/xdg' })).toBe('/m.json');
    expect(configFilePath({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/minidriver/config.json');
    expect(configFilePath({})).toMatch(/\.config\/minidriver\/config\.json$/);
  });

  it('reads every documented key; a missing file is an empty configuration, a missing --config file an error', () => {
    const path = join(directory, 'config.json');
    writeFileSync(
      path,
      JSON.stringify({ $schema: 'x', sim: 'piv', json: true, trace: false, color: 'never', stateDirectory: '/s' }),
    );
    expect(loadConfig({ MINIDRIVER_CONFIG: path })).toEqual({
      config: { sim: 'piv', json: true, trace: false, color: 'never', stateDirectory: '/s' },
      path,
      exists: true,
    });
    expect(loadConfig({ XDG_CONFIG_HOME: join(directory, 'none') }).exists).toBe(false);
    expect(() => loadConfig({}, join(directory, 'none.json'))).toThrow(/none\.json: no such file/);
  });

  it('names the line and column of a JSON syntax error, the key and what it must be', () => {
    expect(errorOf('{"sim":"piv",\n "json": tru}')).toBe(
      'config file c.json: line 2, column 13: not valid JSON (unexpected "}")',
    );
    expect(errorOf('{\n  "sim": "piv",\n}')).toBe(
      'config file c.json: line 3, column 1: not valid JSON (unexpected "}")',
    );
    expect(errorOf('{"sim": "piv"')).toMatch(/line 1, column 14: not valid JSON \(the JSON ends too early\)/);
    expect(errorOf('')).toMatch(/empty/);
    expect(errorOf('[]')).toBe('config file c.json: the top level must be a JSON object');
    expect(errorOf('{"raeder": "x"}')).toBe('config file c.json: unknown key "raeder" (did you mean "reader"?)');
    expect(errorOf('{"sim": "Not A Name"}')).toBe(
      'config file c.json: "sim" must be a simulated card name (lowercase letters, digits, dashes)',
    );
    expect(errorOf('{"plugins": "@acme/card"}')).toBe(
      'config file c.json: "plugins" must be an array of at most 64 package names or directories',
    );
    expect(errorOf('{"trust": {"allow": [{"name": "@acme/card", "integrity": "md5-x"}]}}')).toMatch(
      /"trust" must be \{ "allow": \[\{ "name": "<package>", "integrity": "sha256-…" \}\] \}/,
    );
    expect(errorOf('{"json": "yes"}')).toBe('config file c.json: "json" must be true or false');
    expect(errorOf('{"reader": "a", "sim": "piv"}')).toMatch(/exclude each other/);
  });

  it('documents exactly the keys it accepts in its JSON Schema', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
  });

  it('accepts exactly what its JSON Schema accepts (any JSON value)', () => {
    const keys = [...Object.keys(CONFIG_KEYS), 'other'];
    const values = fc.oneof(
      fc.constantFrom('piv', 'openpgp', 'auto', 'always', 'never', '', 'x', true, false, 0, null),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.constantFrom(...keys), values), fc.jsonValue()), (value) => {
        let accepted = true;
        try {
          parseConfig(JSON.stringify(value), 'c.json');
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          accepted = false;
        }
        expect(accepted).toBe(validate(value));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a UsageError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseConfig(text, 'c.json');
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
        }
      }),
    );
  });
});
