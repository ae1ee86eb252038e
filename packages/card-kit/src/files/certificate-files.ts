/**
 * Certificate files `mscp/kscNN` / `mscp/kxcNN` bound to containers (docs/spec/minidriver.md §4.3, §4.4),
 * with one error policy for everything a caller may hand in.
 *
 * @packageDocumentation
 */
import { ScardError } from '@minidriver/spec';
import { decodeCertificateFile } from '../codecs/certificate-file.js';
import { type CertificateFileKind, parseCertificateFileName } from '../codecs/file-names.js';

/** A certificate file named by its container and kind. */
export interface CertificateFileRef {
  readonly containerIndex: number;
  readonly kind: CertificateFileKind;
}

/**
 * The container and kind a certificate file name stands for, when the container exists
 * (`containerIndex < containerCount`); undefined for any other name (SCARD_E_FILE_NOT_FOUND for the caller).
 */
export function certificateFileRef(name: string, containerCount: number): CertificateFileRef | undefined {
  const parsed = parseCertificateFileName(name);
  if (parsed === undefined || parsed.containerIndex >= containerCount) return undefined;
  return { containerIndex: parsed.containerIndex, kind: parsed.kind };
}

/** The certificate kind of a key half: signature → `ksc`, key exchange → `kxc`. */
export function certificateKindOfHalf(half: 'signature' | 'keyExchange'): CertificateFileKind {
  return half === 'signature' ? 'ksc' : 'kxc';
}

/** Largest certificate file accepted: its length must fit the 16-bit length of a compressed certificate file. */
export const MAX_CERTIFICATE_FILE = 65_535;

/**
 * The DER certificate in the bytes a caller writes to a certificate file: raw DER or the Base CSP's
 * compressed form. The one error policy: bytes that are neither, or more than
 * {@link MAX_CERTIFICATE_FILE} (refused before any decoding: a huge input costs nothing), are the
 * caller's error, SCARD_E_INVALID_PARAMETER (never SCARD_E_COMM_DATA_LOST, which is for data read from
 * the card).
 */
export function certificateOfWrittenFile(data: Uint8Array): Uint8Array {
  if (data.length > MAX_CERTIFICATE_FILE) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `a certificate file is at most ${MAX_CERTIFICATE_FILE} bytes`);
  }
  try {
    return decodeCertificateFile(data);
  } catch (error) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'the data is neither a DER certificate nor a compressed one', {
      cause: error,
    });
  }
}

/** What a plugin keeps certificates in: its card's certificate objects, one per container. */
export interface CertificateFileStore {
  /**
   * The DER certificate of container `containerIndex` as file kind `kind`, or undefined when there is no
   * such file (no certificate, or the container's key is of the other half).
   */
  read(containerIndex: number, kind: CertificateFileKind): Promise<Uint8Array | undefined>;
  /**
   * Stores `der` as the certificate of container `containerIndex`. Throws SCARD_E_FILE_NOT_FOUND when the
   * container cannot hold a `kind` certificate (its key is of the other half or it cannot hold one).
   */
  write(containerIndex: number, kind: CertificateFileKind, der: Uint8Array): Promise<void>;
  /** Removes the certificate; called only after {@link read} found the file. */
  delete(containerIndex: number, kind: CertificateFileKind): Promise<void>;
  /** The certificate files that exist, in container order (for CardEnumFiles). */
  list(): Promise<CertificateFileRef[]>;
}
