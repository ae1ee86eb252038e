/**
 * The logical file system of a card whose files are synthesised from its own objects
 * (docs/spec/minidriver.md §4): `cardid`, `cardcf`, `cardapps` in the root, `cmapfile` and the
 * certificate files in `mscp`. Every file entry point of the contract, with one behaviour for every
 * plugin built on it:
 *
 * | file | read | write | create | delete |
 * |---|---|---|---|---|
 * | `cardid` | the plugin's id | same bytes accepted, other bytes UNSUPPORTED_FEATURE | ERROR_FILE_EXISTS | UNSUPPORTED_FEATURE |
 * | `cardcf` | the source's {@link CardCfStore}, else {@link InContextCardCf} | the same | ERROR_FILE_EXISTS | UNSUPPORTED_FEATURE |
 * | `cardapps` | `mscp` | same bytes accepted, other bytes UNSUPPORTED_FEATURE | ERROR_FILE_EXISTS | UNSUPPORTED_FEATURE |
 * | `mscp/cmapfile` | synthesised | {@link ContainerMap} policy | ERROR_FILE_EXISTS | UNSUPPORTED_FEATURE |
 * | `mscp/kscNN`, `kxcNN` | the store | the store (bad bytes: INVALID_PARAMETER) | accepted (exists virtually) | the store |
 *
 * Other names: SCARD_E_FILE_NOT_FOUND (or SCARD_E_UNSUPPORTED_FEATURE for createFile); other
 * directories: SCARD_E_DIR_NOT_FOUND; createDirectory / deleteDirectory: SCARD_E_UNSUPPORTED_FEATURE
 * (the card has no free-form files). Access conditions come from {@link fileAccessCondition}.
 *
 * @packageDocumentation
 */
import { type CardFileInfo, type DirectoryName, LogicalName, ScardError } from '@minidriver/spec';
import { encodeCardApps } from '../codecs/cardapps.js';
import { certificateFileName } from '../codecs/file-names.js';
import { type CertificateWriter, fileAccessCondition, type StandardFileKind } from './access-table.js';
import { type CardCfStore, InContextCardCf } from './cardcf-store.js';
import {
  type CertificateFileRef,
  type CertificateFileStore,
  certificateFileRef,
  certificateOfWrittenFile,
} from './certificate-files.js';
import { type ContainerKeySummary, ContainerMap } from './container-map.js';

/** What a plugin tells its virtual file system. */
export interface VirtualFileSystemSource {
  /** The 16-byte card identifier (the `cardid` file). Must not use the plugin cache (docs/spec/minidriver.md §4.8). */
  cardId(): Promise<Uint8Array>;
  /** Number of containers the card has (fixed). */
  readonly containerCount: number;
  /** The key of each container (length {@link containerCount}; null = empty). */
  containerKeys(): Promise<readonly (ContainerKeySummary | null)[]>;
  /** The card's certificate objects. */
  readonly certificates: CertificateFileStore;
  /** Who writes certificate files on this card (their access condition). Default `admin`. */
  readonly certificateWriter?: CertificateWriter;
  /** The container flagged default in cmapfile when it holds a key (else the first valid one). */
  readonly defaultContainer?: number;
  /** Where `cardcf` lives (default: an {@link InContextCardCf}, kept for the context). */
  readonly cardcf?: CardCfStore;
}

const CARDAPPS = encodeCardApps([LogicalName.BASE_CSP_DIR]);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

function isRoot(directory: DirectoryName): boolean {
  return directory === null || directory === '';
}

/** The root and `mscp` files of a card, synthesised from a {@link VirtualFileSystemSource}. */
export class VirtualFileSystem {
  readonly #source: VirtualFileSystemSource;
  /** The cardcf (docs/spec/minidriver.md §4.1): the source's, else kept in this context. */
  readonly cardcf: CardCfStore;
  /** The container map and its write policy. */
  readonly containerMap: ContainerMap;

  constructor(source: VirtualFileSystemSource) {
    this.#source = source;
    this.cardcf = source.cardcf ?? new InContextCardCf();
    this.containerMap = new ContainerMap(source.defaultContainer);
  }

  #directory(directory: DirectoryName): 'root' | 'mscp' {
    if (isRoot(directory)) return 'root';
    if (directory?.toLowerCase() === LogicalName.BASE_CSP_DIR) return 'mscp';
    throw new ScardError('SCARD_E_DIR_NOT_FOUND', `no directory ${directory}`);
  }

  #certificate(name: string): CertificateFileRef {
    const ref = certificateFileRef(name, this.#source.containerCount);
    if (ref === undefined) throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${name}`);
    return ref;
  }

  #kind(directory: 'root' | 'mscp', name: string): StandardFileKind {
    if (directory === 'root') {
      if (name === LogicalName.CARD_IDENTIFIER_FILE) return 'cardid';
      if (name === LogicalName.CACHE_FILE) return 'cardcf';
      if (name === LogicalName.CARD_APPS_FILE) return 'cardapps';
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file ${name}`);
    }
    if (name === LogicalName.CONTAINER_MAP_FILE) return 'cmapfile';
    this.#certificate(name);
    return 'certificate';
  }

  /** The cmapfile bytes as the card's keys make them. */
  async containerMapFile(): Promise<Uint8Array> {
    return this.containerMap.encode(await this.#source.containerKeys());
  }

  /** CardReadFile. */
  async readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    const file = name.toLowerCase();
    switch (this.#kind(this.#directory(directory), file)) {
      case 'cardid':
        return this.#source.cardId();
      case 'cardcf':
        return this.cardcf.read();
      case 'cardapps':
        return new Uint8Array(CARDAPPS);
      case 'cmapfile':
        return this.containerMapFile();
      default: {
        const ref = this.#certificate(file);
        const der = await this.#source.certificates.read(ref.containerIndex, ref.kind);
        if (der === undefined) throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${name}`);
        return der;
      }
    }
  }

  /** CardWriteFile. */
  async writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    const file = name.toLowerCase();
    const kind = this.#kind(this.#directory(directory), file);
    switch (kind) {
      case 'cardcf':
        return this.cardcf.write(data);
      case 'cardid':
      case 'cardapps': {
        const current = kind === 'cardid' ? await this.#source.cardId() : CARDAPPS;
        if (sameBytes(current, data)) return;
        throw new ScardError(
          'SCARD_E_UNSUPPORTED_FEATURE',
          `${file} is synthesised from the card and cannot be rewritten`,
        );
      }
      case 'cmapfile':
        return this.containerMap.write(data, await this.#source.containerKeys());
      default: {
        const ref = this.#certificate(file);
        const der = certificateOfWrittenFile(data);
        await this.#source.certificates.write(ref.containerIndex, ref.kind, der);
      }
    }
  }

  /** CardCreateFile: certificate files exist virtually (writeFile fills them); standard files exist. */
  async createFile(directory: DirectoryName, name: string): Promise<void> {
    const where = this.#directory(directory);
    const file = name.toLowerCase();
    if (where === 'mscp' && certificateFileRef(file, this.#source.containerCount) !== undefined) return;
    const standard =
      where === 'root'
        ? [LogicalName.CARD_IDENTIFIER_FILE, LogicalName.CACHE_FILE, LogicalName.CARD_APPS_FILE]
        : [LogicalName.CONTAINER_MAP_FILE];
    if ((standard as string[]).includes(file)) throw new ScardError('ERROR_FILE_EXISTS', `${file} exists`);
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `the card has no free-form files: cannot create ${file}`);
  }

  /** CardDeleteFile: only certificate files can be deleted. */
  async deleteFile(directory: DirectoryName, name: string): Promise<void> {
    const file = name.toLowerCase();
    const kind = this.#kind(this.#directory(directory), file);
    if (kind !== 'certificate') {
      throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${file} is synthesised from the card and cannot be deleted`);
    }
    const ref = this.#certificate(file);
    const existing = await this.#source.certificates.read(ref.containerIndex, ref.kind);
    if (existing === undefined) throw new ScardError('SCARD_E_FILE_NOT_FOUND', `no file mscp/${name}`);
    await this.#source.certificates.delete(ref.containerIndex, ref.kind);
  }

  /** CardEnumFiles. */
  async enumFiles(directory: DirectoryName): Promise<string[]> {
    if (this.#directory(directory) === 'root') {
      return [LogicalName.CARD_IDENTIFIER_FILE, LogicalName.CACHE_FILE, LogicalName.CARD_APPS_FILE];
    }
    const certificates = await this.#source.certificates.list();
    return [
      LogicalName.CONTAINER_MAP_FILE,
      ...certificates.map((ref) => certificateFileName(ref.kind, ref.containerIndex)),
    ];
  }

  /** CardGetFileInfo: the size of the file's contents and its access condition from the one table. */
  async getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    const contents = await this.readFile(directory, name);
    const kind = this.#kind(this.#directory(directory), name.toLowerCase());
    return {
      size: contents.length,
      accessCondition: fileAccessCondition(kind, this.#source.certificateWriter ?? 'admin'),
    };
  }

  /** CardCreateDirectory: the card's directories are fixed. */
  async createDirectory(name: string): Promise<void> {
    if (name.toLowerCase() === LogicalName.BASE_CSP_DIR) throw new ScardError('ERROR_FILE_EXISTS', 'mscp exists');
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `the card has no free-form directories: cannot create ${name}`);
  }

  /** CardDeleteDirectory: the card's directories are fixed. */
  async deleteDirectory(name: string): Promise<void> {
    this.#directory(name);
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `${name} is part of the card's fixed file system`);
  }
}
