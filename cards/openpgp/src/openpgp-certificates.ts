/**
 * The certificate files of the OpenPGP plugin: the cardholder certificate DO 7F21 (docs/spec/openpgp.md
 * docs/spec/openpgp.md §6.2). On a version 3 card, occurrence 2 → `ksc00` (signature key), 1 → `kxc01` (decryption key),
 * 0 → `ksc02` (authentication key), chosen with SELECT DATA; a version 2 card's single 7F21 is `ksc02`.
 * Writing one needs PW3 (ROLE_ADMIN).
 *
 * @packageDocumentation
 */
import type { CertificateFileKind, CertificateFileRef, CertificateFileStore } from '@minidriver/card-kit';
import { ScardError, wipe } from '@minidriver/spec';
import type { OpenPgpApplication } from './openpgp-application.js';

/** The container Windows logon uses by default: the authentication key. */
export const DEFAULT_CONTAINER = 2;
/** Containers are the card's three key slots. */
export const CONTAINER_COUNT = 3;

/** The certificate kind of a container: the decryption key (1) is key exchange, the others signature. */
function kindOfContainer(index: number): CertificateFileKind {
  return index === 1 ? 'kxc' : 'ksc';
}

/** The cardholder certificate occurrences as certificate files. */
export class OpenPgpCertificateStore implements CertificateFileStore {
  readonly #app: OpenPgpApplication;
  readonly #hasOccurrences: boolean;

  constructor(app: OpenPgpApplication, hasOccurrences: boolean) {
    this.#app = app;
    this.#hasOccurrences = hasOccurrences;
  }

  /** The 7F21 occurrence of a file (`selectData` undefined = the single 7F21 of a v2 card), if it has one. */
  #occurrence(index: number, kind: CertificateFileKind): { selectData: number | undefined } | undefined {
    if (index >= CONTAINER_COUNT || kind !== kindOfContainer(index)) return undefined;
    if (!this.#hasOccurrences) return index === DEFAULT_CONTAINER ? { selectData: undefined } : undefined;
    return { selectData: 2 - index };
  }

  async read(index: number, kind: CertificateFileKind): Promise<Uint8Array | undefined> {
    const occurrence = this.#occurrence(index, kind);
    if (occurrence === undefined) return undefined;
    const certificate = await this.#app.readCertificate(occurrence.selectData);
    return certificate.length === 0 ? undefined : certificate;
  }

  async write(index: number, kind: CertificateFileKind, der: Uint8Array): Promise<void> {
    const occurrence = this.#occurrence(index, kind);
    if (occurrence === undefined) {
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `OpenPGP: container ${index} has no ${kind} certificate file`);
    }
    await this.#app.writeCertificate(occurrence.selectData, der);
  }

  async delete(index: number, kind: CertificateFileKind): Promise<void> {
    const occurrence = this.#occurrence(index, kind);
    if (occurrence !== undefined) await this.#app.writeCertificate(occurrence.selectData, new Uint8Array(0));
  }

  async list(): Promise<CertificateFileRef[]> {
    const files: CertificateFileRef[] = [];
    for (let index = 0; index < CONTAINER_COUNT; index++) {
      const kind = kindOfContainer(index);
      const certificate = await this.read(index, kind);
      if (certificate === undefined) continue;
      wipe(certificate);
      files.push({ containerIndex: index, kind });
    }
    return files;
  }
}
