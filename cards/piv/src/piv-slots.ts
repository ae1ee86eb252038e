/**
 * The fixed container index <-> PIV key slot table (docs/spec/piv.md §10.5) and the rules that decide which
 * half of a container (signature or key exchange) a slot's key is. Users and tools may rely on this table:
 * 0 = 9A, 1 = 9C, 2 = 9D, 3 = 9E, 4..23 = retired 82..95.
 */
import { SIGNATURE_PIN_ID as KIT_SIGNATURE_PIN_ID, UNBLOCK_PIN_ID } from '@minidriver/card-kit';
import { type PinId, ROLE_EVERYONE, ROLE_USER } from '@minidriver/spec';

/** Number of containers the PIV card edge has (4 standard slots + 20 retired). */
export const PIV_CONTAINER_COUNT = 24;

/** Slot of each container index. */
export const CONTAINER_SLOTS: readonly number[] = Object.freeze([
  0x9a,
  0x9c,
  0x9d,
  0x9e,
  ...Array.from({ length: 20 }, (_, offset) => 0x82 + offset),
]);

/**
 * PIN id 4: the "signature PIN", the same card PIN 80 bound to PIN-always keys (OpenSC's "user sign" role);
 * the kit's one value for a signature PIN on every card.
 */
export const SIGNATURE_PIN_ID: typeof KIT_SIGNATURE_PIN_ID = KIT_SIGNATURE_PIN_ID;
/** PIN id 3: the PUK, an unblock-only PIN (the kit's UNBLOCK_PIN_ID). */
export const PUK_PIN_ID: typeof UNBLOCK_PIN_ID = UNBLOCK_PIN_ID;

/** The slot of container `index`, or undefined outside 0..23. */
export function slotOfContainer(index: number): number | undefined {
  return Number.isInteger(index) && index >= 0 && index < PIV_CONTAINER_COUNT ? CONTAINER_SLOTS[index] : undefined;
}

/** The container index of `slot`, or undefined when it is not a key slot. */
export function containerOfSlot(slot: number): number | undefined {
  const index = CONTAINER_SLOTS.indexOf(slot);
  return index < 0 ? undefined : index;
}

/** The certificate object of a slot (docs/spec/piv.md §3): 5FC105, 5FC10A, 5FC10B, 5FC101, retired 5FC10D + (k - 82). */
export function certificateTagOfSlot(slot: number): number {
  switch (slot) {
    case 0x9a:
      return 0x5fc105;
    case 0x9c:
      return 0x5fc10a;
    case 0x9d:
      return 0x5fc10b;
    case 0x9e:
      return 0x5fc101;
    default:
      return 0x5fc10d + (slot - 0x82);
  }
}

/** Two-digit hex of a slot, for cache tags and messages ("9a"). */
export function slotName(slot: number): string {
  return slot.toString(16).padStart(2, '0');
}

/**
 * Which half of its container a key in `slot` is (docs/spec/piv.md §10.1, applied everywhere: cmapfile,
 * getContainerInfo, signData / rsaDecrypt / ECDH checks, createContainer):
 * - RSA: 9A, 9D and retired keys decrypt as well as sign → key exchange (AT_KEYEXCHANGE); 9C (digital
 *   signature, non-repudiation) and 9E (card authentication) → signature (AT_SIGNATURE).
 * - ECC: 9A, 9C, 9E sign → ECDSA (signature half); 9D and retired keys agree → ECDH (key-exchange half).
 */
export function keyHalfOfSlot(slot: number, algorithm: 'rsa' | 'ecc'): 'signature' | 'keyExchange' {
  const signingSlot =
    algorithm === 'rsa' ? slot === 0x9c || slot === 0x9e : slot === 0x9a || slot === 0x9c || slot === 0x9e;
  return signingSlot ? 'signature' : 'keyExchange';
}

/** The PIN a slot needs by the PIV default policy: 9E none, 9C PIN-always (signature PIN), others the user PIN. */
export function defaultPinIdOfSlot(slot: number): PinId {
  if (slot === 0x9e) return ROLE_EVERYONE;
  if (slot === 0x9c) return SIGNATURE_PIN_ID;
  return ROLE_USER;
}

/**
 * The container name of a slot: 32 lower-case hex characters, `key id ‖ cardid[1..15]` — OpenSC's scheme
 * (`piv_get_guid`) for a card whose serial is the CHUID GUID, so both stacks show the same names. The key
 * id is OpenSC's: 01 (9A), 02 (9C), 03 (9D), 04 (9E), then the retired ids written as the decimal strings
 * "05".."24" read as hex bytes.
 */
export function containerGuid(cardId: Uint8Array, index: number): string {
  const keyId = Number.parseInt(String(index + 1).padStart(2, '0'), 16);
  const bytes = new Uint8Array(16);
  bytes.set(cardId.subarray(0, 16));
  bytes[0] = keyId;
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
