/**
 * @packageDocumentation
 * Every `minidriver` command, by name, in help order.
 */
import { apduCommand } from './apdu.js';
import type { Command } from './command.js';
import { certsCommand, containersCommand } from './containers.js';
import { decryptCommand, signCommand } from './crypto.js';
import { csrCommand } from './csr.js';
import { demoCommand } from './demo.js';
import { catCommand, lsCommand, mkdirCommand, rmCommand, writeCommand } from './files.js';
import { identifyCommand } from './identify.js';
import { infoCommand } from './info.js';
import { importCertCommand, importKeyCommand, keygenCommand, rmContainerCommand } from './keys.js';
import { configCommand, createCompletionCommand, createHelpCommand, createSchemaCommand } from './meta.js';
import { openpgpCommand } from './openpgp.js';
import { pinCommand } from './pin.js';
import { pivCommand } from './piv.js';
import { pkcs11Command } from './pkcs11.js';
import { readersCommand } from './readers.js';
import { simCommand } from './sim-serve.js';

/** The commands in help order. */
export const COMMANDS: readonly Command[] = [
  readersCommand,
  identifyCommand,
  infoCommand,
  lsCommand,
  catCommand,
  writeCommand,
  rmCommand,
  mkdirCommand,
  containersCommand,
  certsCommand,
  pinCommand,
  keygenCommand,
  importKeyCommand,
  importCertCommand,
  csrCommand,
  signCommand,
  decryptCommand,
  rmContainerCommand,
  pivCommand,
  openpgpCommand,
  apduCommand,
  simCommand,
  pkcs11Command,
  demoCommand,
  createHelpCommand(() => COMMANDS),
  createCompletionCommand(() => COMMANDS),
  configCommand,
  createSchemaCommand(() => COMMANDS),
];

/** The command names (for "did you mean"). */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((command) => command.name);

/** The command named `name`, if any. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}
