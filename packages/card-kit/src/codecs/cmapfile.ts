/**
 * `mscp/cmapfile`, the container map (docs/spec/minidriver.md §3.7): 86-byte `CONTAINER_MAP_RECORD`s, record i =
 * container i.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */

import type { ContainerMapRecord } from '@minidriver/spec';
import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  MAX_CONTAINER_NAME_LEN,
} from '@minidriver/spec';
import { corruptFile, invalidInput, readUint16, requireUint, writeUint16 } from './binary.js';

/** Size of one `CONTAINER_MAP_RECORD`. */
export const CONTAINER_MAP_RECORD_SIZE = 86;
const NAME_UNITS = 40;
const FLAGS_OFFSET = 80;

/**
 * Decodes `cmapfile`. On-card file: a length that is not a multiple of 86, or a name with no NUL in its
 * 40 UTF-16 units → SCARD_E_COMM_DATA_LOST. The name is read up to its NUL code unit by code unit (lone
 * surrogates kept as they are); `bReserved` and bytes after the name's NUL are ignored.
 */
export function decodeContainerMap(bytes: Uint8Array): ContainerMapRecord[] {
  if (!(bytes instanceof Uint8Array)) invalidInput('cmapfile must be a Uint8Array');
  if (bytes.length % CONTAINER_MAP_RECORD_SIZE !== 0) {
    corruptFile(`cmapfile is ${bytes.length} bytes, not a multiple of ${CONTAINER_MAP_RECORD_SIZE}`);
  }
  const records: ContainerMapRecord[] = [];
  for (let offset = 0; offset < bytes.length; offset += CONTAINER_MAP_RECORD_SIZE) {
    let guid = '';
    let terminated = false;
    for (let unit = 0; unit < NAME_UNITS; unit++) {
      const code = readUint16(bytes, offset + unit * 2);
      if (code === 0) {
        terminated = true;
        break;
      }
      guid += String.fromCharCode(code);
    }
    if (!terminated) corruptFile(`cmapfile record ${records.length} has an unterminated name`);
    records.push({
      guid,
      flags: bytes[offset + FLAGS_OFFSET] as number,
      signatureKeySizeBits: readUint16(bytes, offset + 82),
      keyExchangeKeySizeBits: readUint16(bytes, offset + 84),
    });
  }
  return records;
}

/** The flag bits cardmod.h defines for `bFlags`; the others are reserved. */
const DEFINED_FLAGS = CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER;

/**
 * Encodes container map records. A name longer than 39 UTF-16 units, containing NUL or `\` (container
 * names are not paths), flags with a reserved bit or CONTAINER_MAP_DEFAULT_CONTAINER without
 * CONTAINER_MAP_VALID_CONTAINER (cardmod.h CONTAINER_MAP_RECORD), or key sizes outside a WORD →
 * SCARD_E_INVALID_PARAMETER. Unused name units and `bReserved` are 0.
 */
export function encodeContainerMap(records: readonly ContainerMapRecord[]): Uint8Array {
  if (!Array.isArray(records)) invalidInput('container map records must be an array');
  const out = new Uint8Array(records.length * CONTAINER_MAP_RECORD_SIZE);
  records.forEach((record, index) => {
    const offset = index * CONTAINER_MAP_RECORD_SIZE;
    if (record === null || typeof record !== 'object') invalidInput(`container map record ${index} is not an object`);
    const { guid } = record;
    if (typeof guid !== 'string' || guid.length > MAX_CONTAINER_NAME_LEN || guid.includes('\0')) {
      invalidInput(`container name of record ${index} must be at most 39 characters without NUL`);
    }
    if (guid.includes('\\')) invalidInput(`container name of record ${index} contains a backslash`);
    requireUint(record.flags, 0xff, 'container map flags');
    if ((record.flags & ~DEFINED_FLAGS) !== 0) invalidInput(`container map flags of record ${index} set reserved bits`);
    if (
      (record.flags & CONTAINER_MAP_DEFAULT_CONTAINER) !== 0 &&
      (record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0
    ) {
      invalidInput(`record ${index} is flagged default but not valid`);
    }
    requireUint(record.signatureKeySizeBits, 0xffff, 'signature key size');
    requireUint(record.keyExchangeKeySizeBits, 0xffff, 'key exchange key size');
    for (let unit = 0; unit < guid.length; unit++) writeUint16(out, offset + unit * 2, guid.charCodeAt(unit));
    out[offset + FLAGS_OFFSET] = record.flags;
    writeUint16(out, offset + 82, record.signatureKeySizeBits);
    writeUint16(out, offset + 84, record.keyExchangeKeySizeBits);
  });
  return out;
}
