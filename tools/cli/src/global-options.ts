/**
 * @packageDocumentation
 * The options every `minidriver` command accepts.
 */
import type { OptionSpecs } from './parse/arguments.js';

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  reader: {
    type: 'string',
    placeholder: '<name|index>',
    description: 'PC/SC reader to use (default: the first with a card)',
  },
  sim: {
    type: 'string',
    placeholder: 'piv|openpgp',
    description: 'use a simulated card (built-in, or the name of one a plugin ships); its state persists',
  },
  plugin: {
    type: 'string',
    placeholder: '<package|dir>',
    description: 'also use this card plugin: an installed package or a directory (repeatable)',
  },
  json: { type: 'boolean', description: 'print one JSON document for scripts (schemas: minidriver schema <command>)' },
  trace: { type: 'boolean', description: 'print every APDU, decoded, on stderr (PINs shown as **)' },
  stats: { type: 'boolean', description: 'print the APDUs sent and the data cache hits (stderr; JSON: "stats")' },
  config: {
    type: 'string',
    placeholder: '<file>',
    description: 'configuration file (default $XDG_CONFIG_HOME/minidriver/config.json)',
  },
  help: { type: 'boolean', alias: 'h', description: 'show help' },
  version: { type: 'boolean', alias: 'V', description: 'print the version' },
  'pin-stdin': { type: 'boolean', description: 'read the PIN (and a new PIN, one per line) from stdin' },
  'pin-env': { type: 'string', placeholder: '<VAR>', description: 'read the user PIN from environment variable VAR' },
  'admin-pin-env': {
    type: 'string',
    placeholder: '<VAR>',
    description: 'read the admin PIN (OpenPGP PW3) or the PUK from VAR',
  },
  'admin-key-env': {
    type: 'string',
    placeholder: '<VAR>',
    description: 'read the admin key (hex; PIV management key) from VAR',
  },
  'admin-key': { type: 'string', placeholder: 'default', description: "use the card's well-known default admin key" },
};

/** The global string options (their next token is a value, not the command). */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, spec]) => spec.type === 'string')
    .map(([name]) => `--${name}`),
);
