/**
 * @packageDocumentation
 * The minidriver logical file system on a GIDS card (docs/spec/gids.md §3, §7): every file and directory is
 * found through the master file table and lives in a data object of a DO file. Files take the EF whose ACL is
 * their access condition (A010 everyone-read/user-write, A011 user-write/execute, A012 everyone-read/admin-write,
 * A013 user read-write, A014 admin read-write); directories are table entries on EF A000 (user create/delete,
 * as Microsoft's `mscp`). A file grows with every write (a data object has no fixed size). The table is cached
 * in the plugin cache (dropped by the session on any cardcf change); the locations of cardid and cardcf, which
 * never move, are kept for the context so the freshness check costs one APDU.
 */
import type { KitFileEntryPoints } from '@minidriver/card-kit';
import {
  type CardContext,
  type CardFileInfo,
  DirectoryAccessCondition,
  type DirectoryName,
  FileAccessCondition,
  ScardError,
} from '@minidriver/spec';
import type { GidsApplication } from './gids-application.js';
import { FileTable, type FileTableEntry } from './gids-file-table.js';

/** The EF of the master file table (and the key map), and the table's DO. */
export const MASTER_FILE_EF = 0xa000;
export const MASTER_FILE_DO = 0xdf1f;

const EF_OF_ACCESS = new Map<number, number>([
  [FileAccessCondition.EveryoneReadUserWriteAc, 0xa010],
  [FileAccessCondition.UserWriteExecuteAc, 0xa011],
  [FileAccessCondition.EveryoneReadAdminWriteAc, 0xa012],
  [FileAccessCondition.UserReadWriteAc, 0xa013],
  [FileAccessCondition.AdminReadWriteAc, 0xa014],
]);
const DIRECTORY_EF = 0xa000;
/**
 * The plugin cache tag of the master file table: public data (everyone reads EF A000), so the session may
 * keep it across processes (the plugin's publicPluginCacheEntries), validated by cardcf like every entry.
 */
export const FILE_TABLE_CACHE_TAG = 'gids:file-table';
const CACHE_TAG = FILE_TABLE_CACHE_TAG;
/**
 * The plugin cache tag of the FCP of the DO file that holds cardcf (public: anyone may select it), whose
 * ACL decides the cache mode; kept across processes like the table, and like it dropped on any cardcf change.
 */
export const CARDCF_FCP_CACHE_TAG = 'gids:cardcf-fcp';
/** A Base CSP certificate file name: ksc or kxc and a two-digit container index. */
const CERTIFICATE_FILE = /^k[sx]c[0-9A-Fa-f]{2}$/;
/** Files the minidriver itself maintains: never created or deleted through the file entry points. */
const FIXED_FILES = new Set(['/cardid', '/cardcf', '/cardapps', 'mscp/cmapfile']);

/** The access condition of a file in `ef` (UnknownAc for an EF outside the Generic Profile). */
export function accessConditionOfEf(ef: number): FileAccessCondition {
  for (const [condition, candidate] of EF_OF_ACCESS) if (candidate === ef) return condition as FileAccessCondition;
  return FileAccessCondition.UnknownAc;
}

const dir = (directory: DirectoryName): string => directory ?? '';

/** Files and directories of one card context: the file entry points of the contract on the card's own files. */
export class GidsFileSystem implements KitFileEntryPoints {
  readonly #app: GidsApplication;
  readonly #context: CardContext;
  /** Locations of files that never move (cardid, cardcf), learnt from the table once per context. */
  readonly #fixed = new Map<string, FileTableEntry>();
  /** The FCP of cardcf's DO file once read in this context: it goes to the plugin cache with the table. */
  #cardcfFcp: Uint8Array | undefined;

  constructor(app: GidsApplication, context: CardContext) {
    this.#app = app;
    this.#context = context;
  }

  /** The master file table (from the plugin cache when valid). */
  async table(): Promise<FileTable> {
    const cached = this.#context.cache.lookupFile(CACHE_TAG);
    if (cached !== undefined) return FileTable.decode(cached);
    const bytes = await this.#app.readDataObject(MASTER_FILE_EF, MASTER_FILE_DO);
    if (bytes === undefined) {
      throw new ScardError('SCARD_E_UNKNOWN_CARD', 'the GIDS card has no master file table (not personalized)');
    }
    const table = FileTable.decode(bytes);
    this.#context.cache.addFile(CACHE_TAG, bytes);
    // Read in CardAcquireContext, before the session's cache was there: kept now.
    if (this.#cardcfFcp !== undefined) this.#context.cache.addFile(CARDCF_FCP_CACHE_TAG, this.#cardcfFcp);
    // One read of the table tells where cardid and cardcf are for the whole context.
    for (const name of ['cardid', 'cardcf']) {
      const entry = table.findFile('', name);
      if (entry !== undefined) this.#fixed.set(`/${name}`, entry);
    }
    return table;
  }

  async #writeTable(table: FileTable): Promise<void> {
    const bytes = table.encode();
    await this.#app.writeDataObject(MASTER_FILE_EF, MASTER_FILE_DO, bytes);
    this.#context.cache.deleteFile(CACHE_TAG);
    this.#context.cache.addFile(CACHE_TAG, bytes);
  }

  /**
   * The FCP of the DO file that holds cardcf (SELECT P2 04), from the plugin cache when there; empty bytes
   * when the card has no such file.
   */
  async cardcfFileControlParameters(): Promise<Uint8Array> {
    const cached = this.#context.cache.lookupFile(CARDCF_FCP_CACHE_TAG);
    if (cached !== undefined) return cached;
    const location = await this.cardcfLocation();
    const fcp = (await this.#app.fileControlParameters(location.ef)) ?? new Uint8Array(0);
    this.#cardcfFcp = fcp;
    this.#context.cache.addFile(CARDCF_FCP_CACHE_TAG, fcp);
    return fcp;
  }

  /** The entry of a file: SCARD_E_DIR_NOT_FOUND / SCARD_E_FILE_NOT_FOUND when absent. */
  async entry(directory: string, name: string): Promise<FileTableEntry> {
    const key = `${directory}/${name}`;
    const fixed = this.#fixed.get(key);
    if (fixed !== undefined) return fixed;
    const table = await this.table();
    if (!table.hasDirectory(directory)) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory "${directory}"`);
    // cardid and cardcf never move: remember both the first time the table is at hand.
    for (const fixed of ['cardid', 'cardcf']) {
      const location = table.findFile('', fixed);
      if (location !== undefined) this.#fixed.set(`/${fixed}`, location);
    }
    const entry = table.findFile(directory, name);
    if (entry === undefined) throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file "${key}"`);
    return entry;
  }

  /** CardReadFile: the contents of a file (an emptied data object reads as an empty file). */
  async readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    const entry = await this.entry(dir(directory), name);
    const value = await this.#app.readDataObject(entry.ef, entry.dataObject);
    return value ?? new Uint8Array(0);
  }

  /**
   * Replaces a file's contents (the data object grows or shrinks with it). A certificate file of the Base CSP
   * (`mscp/kscNN`, `mscp/kxcNN`) that does not exist yet is created first, everyone-read/user-write, as
   * OpenSC's GIDS driver does when it stores a certificate.
   */
  async writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    const where = dir(directory);
    let entry: FileTableEntry;
    try {
      entry = await this.entry(where, name);
    } catch (error) {
      if (!(where === 'mscp' && CERTIFICATE_FILE.test(name) && ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND'))) {
        throw error;
      }
      await this.createFile(where, name, 0, FileAccessCondition.EveryoneReadUserWriteAc);
      entry = await this.entry(where, name);
    }
    await this.#app.writeDataObject(entry.ef, entry.dataObject, data);
  }

  /** CardCreateFile: a new data object in the EF of `access`, then the table entry (it grows with writes). */
  async createFile(
    where: DirectoryName,
    name: string,
    _initialSize: number,
    access: FileAccessCondition,
  ): Promise<void> {
    const directory = dir(where);
    const ef = EF_OF_ACCESS.get(access);
    if (ef === undefined) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `access condition ${access} has no GIDS DO file`);
    }
    const table = await this.table();
    if (!table.hasDirectory(directory)) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory "${directory}"`);
    if (table.findFile(directory, name) !== undefined) {
      throw new ScardError('ERROR_FILE_EXISTS', `"${directory}/${name}" already exists`);
    }
    const dataObject = table.freeDataObject(ef);
    const next = table.with({ directory, file: name, dataObject, ef });
    // The data object first: a table entry never points at nothing (an orphan object is harmless).
    await this.#app.writeDataObject(ef, dataObject, new Uint8Array(0));
    await this.#writeTable(next);
  }

  /** CardDeleteFile: the table entry first, then the data object is emptied and removed. */
  async deleteFile(where: DirectoryName, name: string): Promise<void> {
    const directory = dir(where);
    if (FIXED_FILES.has(`${directory}/${name}`)) {
      throw new ScardError('SCARD_W_SECURITY_VIOLATION', `"${directory}/${name}" belongs to the minidriver`);
    }
    const entry = await this.entry(directory, name);
    await this.#writeTable((await this.table()).without(entry));
    await this.#app.writeDataObject(entry.ef, entry.dataObject, new Uint8Array(0));
    await this.#app.writeDataObject(entry.ef, entry.dataObject, new Uint8Array(0));
  }

  /** CardEnumFiles. */
  async enumFiles(where: DirectoryName): Promise<string[]> {
    const directory = dir(where);
    const table = await this.table();
    if (!table.hasDirectory(directory)) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory "${directory}"`);
    return table.filesIn(directory);
  }

  /** CardGetFileInfo: the size of the contents and the access condition of the file's DO file. */
  async getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    const entry = await this.entry(dir(directory), name);
    const data = await this.readFile(directory, name);
    return { size: data.length, accessCondition: accessConditionOfEf(entry.ef) };
  }

  /** CardCreateDirectory: user-created directories only (the Generic Profile has no admin-only directory EF). */
  async createDirectory(name: string, access: DirectoryAccessCondition): Promise<void> {
    if (access !== DirectoryAccessCondition.UserCreateDeleteDirAc) {
      throw new ScardError(
        'SCARD_E_UNSUPPORTED_FEATURE',
        'GIDS directories are user create/delete (EF A000); an admin-only directory has no EF in the Generic Profile',
      );
    }
    const table = await this.table();
    if (table.hasDirectory(name)) throw new ScardError('ERROR_FILE_EXISTS', `directory "${name}" already exists`);
    await this.#writeTable(table.with({ directory: name, file: '', dataObject: 0, ef: DIRECTORY_EF }));
  }

  /** CardDeleteDirectory: an empty directory other than mscp. */
  async deleteDirectory(name: string): Promise<void> {
    if (name === 'mscp') throw new ScardError('SCARD_W_SECURITY_VIOLATION', 'mscp belongs to the minidriver');
    const table = await this.table();
    if (!table.hasDirectory(name)) throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory "${name}"`);
    if (table.filesIn(name).length > 0) throw new ScardError('ERROR_DIR_NOT_EMPTY', `directory "${name}" is not empty`);
    await this.#writeTable(table.without({ directory: name, file: '' }));
  }

  /** Where cardcf is (its DO file's ACL tells who may write it). */
  async cardcfLocation(): Promise<FileTableEntry> {
    return this.entry('', 'cardcf');
  }
}
