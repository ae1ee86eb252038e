/**
 * Certificate files `kscNN` / `kxcNN` (docs/spec/minidriver.md §4.4): either raw DER or the Base CSP's compressed form
 * `01 00 ‖ uncompressed length (WORD LE) ‖ zlib stream`.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { ScardError } from '@minidriver/spec';
import { corruptFile, invalidInput, readUint16, writeUint16 } from './binary.js';

const HEADER_SIZE = 4;

/**
 * The DER certificate stored in a certificate file. `01 00` → inflate and check the declared length;
 * a DER SEQUENCE (`30 …`) → returned as is (copied); anything else, a bad zlib stream or a length
 * mismatch → SCARD_E_COMM_DATA_LOST. Inflation stops at the declared length, so a hostile stream cannot
 * exhaust memory.
 */
export function decodeCertificateFile(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) invalidInput('certificate file must be a Uint8Array');
  if (bytes.length >= 2 && bytes[0] === 0x30) return new Uint8Array(bytes);
  if (bytes.length < HEADER_SIZE || bytes[0] !== 0x01 || bytes[1] !== 0x00) {
    corruptFile('certificate file is neither DER nor compressed (01 00)');
  }
  const declaredLength = readUint16(bytes, 2);
  let inflated: Uint8Array;
  try {
    inflated = new Uint8Array(
      inflateSync(bytes.subarray(HEADER_SIZE), { maxOutputLength: Math.max(declaredLength, 1) }),
    );
  } catch (error) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'compressed certificate does not inflate', { cause: error });
  }
  if (inflated.length !== declaredLength) {
    corruptFile(`compressed certificate inflates to ${inflated.length} bytes, header says ${declaredLength}`);
  }
  return inflated;
}

/**
 * The compressed certificate file the Base CSP writes when the card does not compress
 * (`fCertificateCompression` FALSE): `01 00 ‖ length LE ‖ zlib(der)`. A certificate over 65535 bytes
 * (the length is a WORD) → SCARD_E_INVALID_PARAMETER.
 */
export function compressCertificate(der: Uint8Array): Uint8Array {
  if (!(der instanceof Uint8Array)) invalidInput('certificate must be a Uint8Array');
  if (der.length > 0xffff) invalidInput(`a ${der.length}-byte certificate does not fit the compressed format`);
  const compressed = deflateSync(der);
  const out = new Uint8Array(HEADER_SIZE + compressed.length);
  out[0] = 0x01;
  writeUint16(out, 2, der.length);
  out.set(compressed, HEADER_SIZE);
  return out;
}
