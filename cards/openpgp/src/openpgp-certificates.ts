/**
 * The certificate files of the OpenPGP plugin: the cardholder certificate DO 7F21 (docs/spec/openpgp.md
 * docs/spec/openpgp.md §6.2). On a version 3 card, occurrence 2 → `ksc00` (signature key), 1 → `kxc01` (decryption key),
 * 0 → `ksc02` (authentication key), chosen with SELECT DATA; a version 2 card's single 7F21 is `ksc02`.
 * Writing one needs PW3 (ROLE_ADMIN).
 *
 * @packageDocumentation
 */
import type { CertificateFileKind, CertificateFileRef, CertificateFileStore } from '@minidriver/card-kit';
import { type PluginCache, ScardError, wipe } from '@minidriver/spec';
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
  readonly #maxResponseLength: number | undefined;
  readonly #cache: PluginCache | undefined;

  /**
   * `maxResponseLength`: the card's extended length limit (7F66), when it announces one. `cache`: the
   * context's cache functions, where what the listing read is kept for the rest of the transaction (the
   * session keeps this plugin's entries one transaction only: another tool may rewrite a certificate).
   */
  constructor(app: OpenPgpApplication, hasOccurrences: boolean, maxResponseLength?: number, cache?: PluginCache) {
    this.#app = app;
    this.#hasOccurrences = hasOccurrences;
    this.#maxResponseLength = maxResponseLength;
    this.#cache = cache;
  }

  #tag(selectData: number | undefined): string {
    return `openpgp:7f21:${selectData ?? 'single'}`;
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
    const tag = this.#tag(occurrence.selectData);
    let certificate = this.#cache?.lookupFile(tag);
    if (certificate === undefined) {
      certificate = await this.#app.readCertificate(occurrence.selectData, this.#maxResponseLength);
      this.#cache?.addFile(tag, certificate);
    }
    return certificate.length === 0 ? undefined : certificate;
  }

  /**
   * Which containers have a certificate (v3 card): occurrence 0 selected, then GET NEXT DATA for the
   * next two (one APDU each instead of two), falling back to SELECT DATA on a card without GET NEXT DATA.
   */
  async #present(): Promise<boolean[]> {
    const present = [false, false, false];
    let useNext = true;
    for (let occurrence = 0; occurrence < CONTAINER_COUNT; occurrence++) {
      let certificate: Uint8Array | undefined;
      if (occurrence > 0 && useNext) {
        certificate = await this.#app.readNextCertificate(this.#maxResponseLength);
        useNext = certificate !== undefined;
      }
      certificate ??= await this.#app.readCertificate(occurrence, this.#maxResponseLength);
      // Occurrence 0 is the authentication key (container 2), 2 the signature key (container 0).
      present[2 - occurrence] = certificate.length > 0;
      this.#cache?.addFile(this.#tag(occurrence), certificate);
      wipe(certificate);
    }
    return present;
  }

  async write(index: number, kind: CertificateFileKind, der: Uint8Array): Promise<void> {
    const occurrence = this.#occurrence(index, kind);
    if (occurrence === undefined) {
      throw new ScardError('SCARD_E_FILE_NOT_FOUND', `OpenPGP: container ${index} has no ${kind} certificate file`);
    }
    this.#cache?.deleteFile(this.#tag(occurrence.selectData));
    await this.#app.writeCertificate(occurrence.selectData, der);
  }

  async delete(index: number, kind: CertificateFileKind): Promise<void> {
    const occurrence = this.#occurrence(index, kind);
    if (occurrence === undefined) return;
    this.#cache?.deleteFile(this.#tag(occurrence.selectData));
    await this.#app.writeCertificate(occurrence.selectData, new Uint8Array(0));
  }

  async list(): Promise<CertificateFileRef[]> {
    if (!this.#hasOccurrences) {
      const certificate = await this.read(DEFAULT_CONTAINER, kindOfContainer(DEFAULT_CONTAINER));
      if (certificate === undefined) return [];
      wipe(certificate);
      return [{ containerIndex: DEFAULT_CONTAINER, kind: kindOfContainer(DEFAULT_CONTAINER) }];
    }
    const present = await this.#present();
    const files: CertificateFileRef[] = [];
    for (let index = 0; index < CONTAINER_COUNT; index++) {
      if (present[index]) files.push({ containerIndex: index, kind: kindOfContainer(index) });
    }
    return files;
  }
}
