/**
 * @packageDocumentation
 * The GIDS key map (DO `DF20` of EF `A000`, docs/spec/gids.md §3.5): version byte `01`, then one 12-byte record
 * per cmapfile record, as OpenSC writes it and Microsoft-provisioned cards carry it: state (int32 LE, 1 = in
 * use), mechanism identifier, key type (`9A` key exchange, `9C` signature), key file (uint16 LE, B0xx; FFFF
 * when deleted), FFFF, and 2 bytes of padding.
 */
import { ScardError } from '@minidriver/spec';

/** One key map record. */
export interface KeyMapRecord {
  readonly inUse: boolean;
  readonly mechanism: number;
  /** 0x9A AT_KEYEXCHANGE, 0x9C AT_SIGNATURE, 0 none. */
  readonly keyType: number;
  /** Key file FID (0xB0xx), 0xFFFF when deleted. */
  readonly keyFile: number;
}

const RECORD_LENGTH = 12;
/** A deleted record (what OpenSC writes when a container goes). */
export const DELETED_KEY_MAP_RECORD: KeyMapRecord = { inUse: false, mechanism: 0, keyType: 0, keyFile: 0xffff };

/** Decodes the key map (an absent or empty DO is an empty map). */
export function decodeKeyMap(bytes: Uint8Array): KeyMapRecord[] {
  if (bytes.length === 0) return [];
  if (bytes[0] !== 0x01 || (bytes.length - 1) % RECORD_LENGTH !== 0) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the GIDS key map is not version 01 with 12-byte records');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: KeyMapRecord[] = [];
  for (let offset = 1; offset < bytes.length; offset += RECORD_LENGTH) {
    records.push({
      inUse: view.getInt32(offset, true) === 1,
      mechanism: bytes[offset + 4] as number,
      keyType: bytes[offset + 5] as number,
      keyFile: view.getUint16(offset + 6, true),
    });
  }
  return records;
}

/** Encodes the key map. */
export function encodeKeyMap(records: readonly KeyMapRecord[]): Uint8Array {
  const bytes = new Uint8Array(1 + records.length * RECORD_LENGTH);
  bytes[0] = 0x01;
  const view = new DataView(bytes.buffer);
  records.forEach((record, index) => {
    const offset = 1 + index * RECORD_LENGTH;
    view.setInt32(offset, record.inUse ? 1 : 0, true);
    bytes[offset + 4] = record.mechanism;
    bytes[offset + 5] = record.keyType;
    view.setUint16(offset + 6, record.keyFile, true);
    view.setUint16(offset + 8, 0xffff, true);
  });
  return bytes;
}
