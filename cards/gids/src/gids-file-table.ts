/**
 * @packageDocumentation
 * The GIDS master file table (DO `DF1F` of EF `A000`, docs/spec/gids.md §3.2): the directory that maps each
 * minidriver file and directory to the (EF, DO) holding it. Version byte `01`, then 28-byte records: directory
 * name (9 bytes, NUL-padded), file name (9 bytes, empty for a directory entry), 2 bytes of padding, DO
 * identifier (uint32 LE), EF identifier (uint32 LE). Decoding is strict (SCARD_E_COMM_DATA_LOST on anything
 * else); the table is immutable, every change returns a new one.
 */
import { ScardError } from '@minidriver/spec';

/** One record of the table. */
export interface FileTableEntry {
  /** Directory name ("" = root). */
  readonly directory: string;
  /** File name ("" for a directory entry). */
  readonly file: string;
  /** The data object holding the file (0 for a directory). */
  readonly dataObject: number;
  /** The DO file (EF) holding it; for a directory, the EF whose ACL protects its files. */
  readonly ef: number;
}

const RECORD_LENGTH = 28;
const NAME_FIELD = 9;
/** Names are single-byte ANSI of at most 8 characters (9 with the NUL). */
const MAX_NAME_LENGTH = 8;
/** The EF new files go to (everyone reads, user or admin writes), and the first DO tried (after the fixed ones). */
export const FILES_EF = 0xa010;
const FIRST_FREE_DO = 0xdf21;
const LAST_DO = 0xdfff;

/** The decoded master file table. */
export class FileTable {
  readonly entries: readonly FileTableEntry[];

  private constructor(entries: readonly FileTableEntry[]) {
    this.entries = entries;
  }

  /** Decodes the DO value; anything but version 01 and whole records is SCARD_E_COMM_DATA_LOST. */
  static decode(bytes: Uint8Array): FileTable {
    if (bytes.length < 1 || bytes[0] !== 0x01 || (bytes.length - 1) % RECORD_LENGTH !== 0) {
      throw new ScardError(
        'SCARD_E_COMM_DATA_LOST',
        'the GIDS master file table is not version 01 with 28-byte records',
      );
    }
    const entries: FileTableEntry[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = 1; offset < bytes.length; offset += RECORD_LENGTH) {
      entries.push({
        directory: decodeName(bytes.subarray(offset, offset + NAME_FIELD)),
        file: decodeName(bytes.subarray(offset + NAME_FIELD, offset + 2 * NAME_FIELD)),
        dataObject: view.getUint32(offset + 20, true),
        ef: view.getUint32(offset + 24, true),
      });
    }
    return new FileTable(entries);
  }

  /** The table with these entries (names checked: 1-8 printable ANSI characters, no NUL). */
  static of(entries: readonly FileTableEntry[]): FileTable {
    for (const entry of entries) {
      checkName(entry.directory, true);
      checkName(entry.file, true);
    }
    return new FileTable([...entries]);
  }

  /** The encoded DO value. */
  encode(): Uint8Array {
    const bytes = new Uint8Array(1 + this.entries.length * RECORD_LENGTH);
    bytes[0] = 0x01;
    const view = new DataView(bytes.buffer);
    this.entries.forEach((entry, index) => {
      const offset = 1 + index * RECORD_LENGTH;
      bytes.set(encodeName(entry.directory), offset);
      bytes.set(encodeName(entry.file), offset + NAME_FIELD);
      view.setUint32(offset + 20, entry.dataObject >>> 0, true);
      view.setUint32(offset + 24, entry.ef >>> 0, true);
    });
    return bytes;
  }

  /** The entry of file `file` in `directory` ("" = root), or undefined. */
  findFile(directory: string, file: string): FileTableEntry | undefined {
    if (file === '') return undefined;
    return this.entries.find((entry) => entry.directory === directory && entry.file === file);
  }

  /** True when `directory` exists (root always does). */
  hasDirectory(directory: string): boolean {
    return directory === '' || this.entries.some((entry) => entry.directory === directory && entry.file === '');
  }

  /** The file names in `directory`. */
  filesIn(directory: string): string[] {
    return this.entries
      .filter((entry) => entry.directory === directory && entry.file !== '')
      .map((entry) => entry.file);
  }

  /** The directory names. */
  directories(): string[] {
    return this.entries.filter((entry) => entry.file === '').map((entry) => entry.directory);
  }

  /**
   * The first DO of EF `ef` (default A010) from DF21 upward that no entry uses (as OpenSC and Microsoft
   * allocate), or SCARD_E_NO_MEMORY when every one is taken.
   */
  freeDataObject(ef: number = FILES_EF): number {
    const used = new Set(this.entries.filter((entry) => entry.ef === ef).map((entry) => entry.dataObject));
    for (let tag = FIRST_FREE_DO; tag <= LAST_DO; tag++) if (!used.has(tag)) return tag;
    throw new ScardError('SCARD_E_NO_MEMORY', 'no free data object left in the GIDS file table');
  }

  /** The table with `entry` appended. */
  with(entry: FileTableEntry): FileTable {
    return FileTable.of([...this.entries, entry]);
  }

  /** The table without `entry` (compared by directory and file name). */
  without(entry: Pick<FileTableEntry, 'directory' | 'file'>): FileTable {
    return new FileTable(this.entries.filter((e) => !(e.directory === entry.directory && e.file === entry.file)));
  }
}

function decodeName(field: Uint8Array): string {
  const end = field.indexOf(0);
  if (end === -1) throw new ScardError('SCARD_E_COMM_DATA_LOST', 'a GIDS file table name has no terminating NUL');
  let name = '';
  for (const byte of field.subarray(0, end)) name += String.fromCharCode(byte);
  return name;
}

function checkName(name: string, emptyAllowed: boolean): void {
  if (name === '' && emptyAllowed) return;
  if (name.length < 1 || name.length > MAX_NAME_LENGTH || !/^[\x21-\x7e]+$/.test(name)) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'a GIDS file or directory name is 1-8 printable ANSI characters');
  }
}

function encodeName(name: string): Uint8Array {
  const field = new Uint8Array(NAME_FIELD);
  for (let index = 0; index < name.length; index++) field[index] = name.charCodeAt(index);
  return field;
}
