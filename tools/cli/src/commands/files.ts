/**
 * The logical file system: `ls [dir]`, `cat <dir/file> [--out f]`, `write <dir/file> --in f`,
 * `rm <dir/file>`, `mkdir <dir>`. Writes authenticate the admin only when the card asks for it.
 */

import { X509Certificate } from 'node:crypto';
import { decodeCardApps, decodeCertificateFile } from '@minidriver/card-kit';
import { toPem } from '@minidriver/core';
import { DirectoryAccessCondition, FileAccessCondition, ScardError, toHex } from '@minidriver/spec';
import { confirmDestruction, FORCE_OPTION } from '../input/confirm.js';
import { CARD_FILE_INPUT, readInputFile, STDIO, writeOutputFile } from '../input/local-files.js';
import { withSpinner } from '../output/spinner.js';
import { renderTable } from '../output/table.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { requireOption, requirePositional, stringOption } from './context.js';
import { withCard, withRole } from './session-helpers.js';

/** `mscp/cmapfile` → { directory: 'mscp', name: 'cmapfile' }; `cardid` → root. */
export function splitFilePath(path: string): { directory: string | null; name: string } {
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.length === 1) return { directory: null, name: parts[0] as string };
  if (parts.length === 2) return { directory: parts[0] as string, name: parts[1] as string };
  throw new UsageError(`"${path}" is not <file> or <dir>/<file>`);
}

function displayPath(directory: string | null, name: string): string {
  return directory === null ? name : `${directory}/${name}`;
}

export const lsCommand: Command = {
  name: 'ls',
  usage: '[dir]',
  summary: 'list a directory of the logical file system (root by default)',
  examples: ['minidriver ls', 'minidriver ls mscp'],
  options: {},
  run: (context) =>
    withCard(context, async (opened) => {
      const directory = context.positionals[0] ?? null;
      const names = await opened.session.enumFiles(directory);
      const entries: { name: string; size: number | null; accessCondition: string | null; directory: boolean }[] = [];
      if (directory === null) {
        // Directories are not files: the root lists them in cardapps (docs/spec/minidriver.md §4.2).
        const applications = names.includes('cardapps')
          ? decodeCardApps(await opened.session.readFile(null, 'cardapps'))
          : [];
        for (const name of applications) entries.push({ name, size: null, accessCondition: null, directory: true });
      }
      for (const name of names) {
        try {
          const info = await opened.session.getFileInfo(directory, name);
          const condition =
            Object.entries(FileAccessCondition).find(([, value]) => value === info.accessCondition)?.[0] ??
            String(info.accessCondition);
          entries.push({ name, size: info.size, accessCondition: condition, directory: false });
        } catch (error) {
          if (!ScardError.isInstance(error)) throw error;
          // A file the card cannot describe is still listed.
          entries.push({ name, size: null, accessCondition: null, directory: false });
        }
      }
      context.print(
        renderTable(
          ['name', 'size', 'access'],
          entries.map((entry) => [
            entry.directory ? context.colours.cyan(`${entry.name}/`) : entry.name,
            entry.size === null ? '-' : String(entry.size),
            entry.accessCondition ?? '-',
          ]),
          context.colours.bold,
        ),
      );
      return { directory, entries };
    }),
};

export const catCommand: Command = {
  name: 'cat',
  usage: '<dir/file> [--out f]',
  summary: 'read a file (hex dump, or raw bytes with --out)',
  examples: [
    'minidriver cat mscp/cmapfile',
    'minidriver cat mscp/kxc00 --pem            # a certificate file as PEM',
    'minidriver cat cardid --out - | xxd          # raw bytes to stdout',
  ],
  options: {
    out: { type: 'string', placeholder: '<file>', description: 'write the contents to this file (- for stdout)' },
    pem: { type: 'boolean', description: 'the file is a certificate: print (or write) it as PEM' },
  },
  run: (context) =>
    withCard(context, async (opened) => {
      const { directory, name } = splitFilePath(requirePositional(context, 0, '<dir/file>'));
      const out = stringOption(context, 'out');
      if (out === STDIO && context.json) throw new UsageError('--out - and --json would both write to stdout');
      const data = await withSpinner(`reading ${displayPath(directory, name)}`, () =>
        withRole(context, opened, 'user', () => opened.session.readFile(directory, name)),
      );
      if (context.options['pem'] === true) {
        const pem = certificatePem(data, displayPath(directory, name));
        if (out !== undefined) await writeOutputFile(out, pem);
        if (out === undefined) context.print(pem.trimEnd());
        else if (out !== STDIO) context.print(`certificate written to ${out} as PEM`);
        return { path: displayPath(directory, name), size: data.length, pem, ...(out === undefined ? {} : { out }) };
      }
      if (out !== undefined) {
        await writeOutputFile(out, data);
        if (out !== STDIO) context.print(`${data.length} bytes written to ${out}`);
      } else {
        for (let offset = 0; offset < data.length; offset += 16) {
          const row = data.subarray(offset, offset + 16);
          const ascii = Array.from(row, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join(
            '',
          );
          context.print(`${offset.toString(16).padStart(6, '0')}  ${toHex(row, ' ').padEnd(47)}  ${ascii}`);
        }
      }
      return {
        path: displayPath(directory, name),
        size: data.length,
        ...(out === undefined ? { data: toHex(data) } : { out }),
      };
    }),
};

/** The PEM of the certificate a certificate file holds (compressed or not); a usage error for other files. */
function certificatePem(data: Uint8Array, path: string): string {
  try {
    const der = decodeCertificateFile(data);
    new X509Certificate(der);
    return toPem(der, 'CERTIFICATE');
  } catch {
    throw new UsageError(
      `${path} does not hold a certificate: --pem applies to certificate files (mscp/kxcNN, mscp/kscNN)`,
    );
  }
}

export const writeCommand: Command = {
  name: 'write',
  usage: '<dir/file> --in f',
  summary: 'write a file (created when missing)',
  examples: ['minidriver write mscp/notes --in notes.txt', 'echo hello | minidriver write mscp/notes --in -'],
  options: { in: { type: 'string', placeholder: '<file>', description: 'the bytes to write (- for stdin)' } },
  run: (context) =>
    withCard(context, async (opened) => {
      const { directory, name } = splitFilePath(requirePositional(context, 0, '<dir/file>'));
      const data = await readInputFile(requireOption(context, 'in'), CARD_FILE_INPUT);
      await withRole(context, opened, 'admin', async () => {
        try {
          await opened.session.writeFile(directory, name, data);
        } catch (error) {
          if (!ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND')) throw error;
          await opened.session.createFile(directory, name, data.length, FileAccessCondition.EveryoneReadAdminWriteAc);
          await opened.session.writeFile(directory, name, data);
        }
      });
      context.print(`${data.length} bytes written to ${displayPath(directory, name)}`);
      return { path: displayPath(directory, name), size: data.length };
    }),
};

export const rmCommand: Command = {
  name: 'rm',
  usage: '<dir/file> [--force]',
  summary: 'delete a file',
  examples: ['minidriver rm mscp/notes --force'],
  options: { ...FORCE_OPTION },
  run: (context) =>
    withCard(context, async (opened) => {
      const { directory, name } = splitFilePath(requirePositional(context, 0, '<dir/file>'));
      const size = await opened.session
        .getFileInfo(directory, name)
        .then((info) => `${info.size} bytes`)
        .catch(() => 'its contents');
      await confirmDestruction(context, `the file ${displayPath(directory, name)} (${size})`);
      await withRole(context, opened, 'admin', () => opened.session.deleteFile(directory, name));
      context.print(`deleted ${displayPath(directory, name)}`);
      return { path: displayPath(directory, name), deleted: true };
    }),
};

export const mkdirCommand: Command = {
  name: 'mkdir',
  usage: '<dir>',
  summary: 'create a directory (admin create/delete access)',
  examples: ['minidriver mkdir app1'],
  options: {},
  run: (context) =>
    withCard(context, async (opened) => {
      const name = requirePositional(context, 0, '<dir>');
      await withRole(context, opened, 'admin', () =>
        opened.session.createDirectory(name, DirectoryAccessCondition.AdminCreateDeleteDirAc),
      );
      context.print(`created directory ${name}`);
      return { directory: name, created: true };
    }),
};
