/**
 * The card's ATR and AID. The default ATR is the one of the OpenPGP card v3 (OpenSC's ATR table
 * lists it as "OpenPGP card V3"); its historical bytes `00 31 F5 73 C0 01 60 00 90 00` announce, in
 * the card capabilities `73 C0 01 60`, extended Lc/Le (b7 of the third byte).
 */

/** `3B DA 18 FF 81 B1 FE 75 1F 03 | 00 31 F5 73 C0 01 60 00 90 00 | 1C` — OpenPGP card v3 (OpenSC pgp_atrs). */
export const OPENPGP_V3_ATR: Uint8Array = Uint8Array.from(
  Buffer.from('3BDA18FF81B1FE751F030031F573C001600090001C', 'hex'),
);

/** RID ‖ application: `D2 76 00 01 24 01`, what clients SELECT. */
export const OPENPGP_AID_PREFIX: Uint8Array = Uint8Array.of(0xd2, 0x76, 0x00, 0x01, 0x24, 0x01);

/** The 16-byte AID: prefix, version, manufacturer (2 bytes), serial (4 bytes), RFU `00 00`. */
export function buildAid(version: readonly [number, number], manufacturer: number, serial: number): Uint8Array {
  const toBcd = (value: number) => ((Math.floor(value / 10) % 10) << 4) | (value % 10);
  return Uint8Array.of(
    ...OPENPGP_AID_PREFIX,
    toBcd(version[0]),
    toBcd(version[1]),
    (manufacturer >> 8) & 0xff,
    manufacturer & 0xff,
    (serial >>> 24) & 0xff,
    (serial >>> 16) & 0xff,
    (serial >>> 8) & 0xff,
    serial & 0xff,
    0x00,
    0x00,
  );
}

/**
 * The historical bytes of an ATR (ISO 7816-3 §8.2: T0's low nibble counts them; they follow the
 * interface bytes announced by T0 and each TDi). Returns an empty array for an ATR too short to hold them.
 */
export function historicalBytesOf(atr: Uint8Array): Uint8Array {
  if (atr.length < 2) return new Uint8Array(0);
  const count = atr[1]! & 0x0f;
  let indicator = atr[1]! >> 4;
  let offset = 2;
  for (;;) {
    const present = [0x1, 0x2, 0x4].filter((bit) => indicator & bit).length;
    offset += present;
    if (!(indicator & 0x8)) break;
    const next = atr[offset];
    if (next === undefined) return new Uint8Array(0);
    offset += 1;
    indicator = next >> 4;
  }
  return atr.slice(offset, offset + count);
}
