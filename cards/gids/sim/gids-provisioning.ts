/**
 * @packageDocumentation
 * Personalization of a blank GIDS card into the Microsoft Generic Profile (docs/spec/gids.md §2): the APDUs an
 * issuer sends — and OpenSC's `gids-tool --initialize` sends — to set the PIN, create the six DO files and the
 * admin key file, put the admin key, write the initial minidriver files (master file table, cardapps, cardcf,
 * cmapfile, cardid) and activate the application.
 */
import { encodeCommandApdu, encodeTlv } from '@minidriver/iso7816';

/** What a personalization sets. */
export interface ProvisioningParameters {
  /** The user PIN (4-16 bytes). */
  readonly pin: Uint8Array;
  /** The 24-byte 3DES admin key. */
  readonly adminKey: Uint8Array;
  /** The 16-byte card identifier (cardid). */
  readonly cardId: Uint8Array;
  /**
   * Put cardcf in the "everyone read, admin write" DO file (A012) instead of A010: a card on which the user
   * cannot update the cache file (the minidriver then cannot keep a GLOBAL cache and must say so).
   */
  readonly readOnlyCardcf?: boolean;
}

/** The DO files of the Generic Profile with their compact ACLs (write condition, read condition). */
const DO_FILES: ReadonlyArray<readonly [number, number, number]> = [
  [0xa000, 0x30, 0x00],
  [0xa010, 0x30, 0x00],
  [0xa011, 0x30, 0xff],
  [0xa012, 0x20, 0x00],
  [0xa013, 0x30, 0x30],
  [0xa014, 0x20, 0x20],
];

/** The admin key file B080: 3DES (algorithm 02), key reference 80, use always / write admin / read never. */
const ADMIN_KEY_FILE_FCP = Uint8Array.from([
  0x62, 0x1a, 0x82, 0x01, 0x18, 0x83, 0x02, 0xb0, 0x80, 0x8c, 0x04, 0x87, 0x00, 0x20, 0xff, 0xa5, 0x0b, 0xa4, 0x09,
  0x80, 0x01, 0x02, 0x83, 0x01, 0x80, 0x95, 0x01, 0xc0,
]);

/** Microsoft's initial master file table (docs/spec/gids.md §3.2): mscp, cardid, cardapps, cardcf, cmapfile. */
export const INITIAL_MASTER_FILE: Uint8Array = Uint8Array.from(
  Buffer.from(
    '016d736370000000000000000000000000000000000000000000a000' +
      '00000000000000000000636172646964000000000020df000012a000' +
      '00000000000000000000636172646170707300000021df000010a000' +
      '00000000000000000000636172646366000000000022df000010a000' +
      '006d7363700000000000636d617066696c6500000023df000010a000' +
      '00',
    'hex',
  ),
);

/** The cardapps file: one application, "mscp". */
const CARDAPPS = Uint8Array.from([0x6d, 0x73, 0x63, 0x70, 0x00, 0x00, 0x00, 0x00]);

function command(ins: number, p1: number, p2: number, data?: Uint8Array): Uint8Array {
  return encodeCommandApdu({ cla: 0x00, ins, p1, p2, ...(data ? { data } : {}) });
}

function putData(file: number, tag: number, value: Uint8Array): Uint8Array {
  return encodeCommandApdu(
    { cla: 0x00, ins: 0xdb, p1: file >> 8, p2: file & 0xff, data: encodeTlv(tag, value) },
    {
      extended: true,
    },
  );
}

/**
 * The personalization commands, in order. PUT DATA commands are extended-length here (the simulator accepts
 * both; OpenSC chains short ones).
 */
export function provisioningCommands(parameters: ProvisioningParameters): Uint8Array[] {
  const commands: Uint8Array[] = [command(0x24, 0x01, 0x80, parameters.pin)];
  for (const [fid, write, read] of DO_FILES) {
    const fcp = Uint8Array.of(
      0x62,
      0x0c,
      0x82,
      0x01,
      0x39,
      0x83,
      0x02,
      fid >> 8,
      fid & 0xff,
      0x8c,
      0x03,
      0x03,
      write,
      read,
    );
    commands.push(command(0xe0, 0x00, 0x00, fcp), command(0x44, 0x00, 0x00));
  }
  commands.push(command(0xe0, 0x00, 0x00, ADMIN_KEY_FILE_FCP), command(0x44, 0x00, 0x00));
  const keyTemplate = Uint8Array.of(
    0x84,
    0x01,
    0x80,
    0xa5,
    0x1f,
    0x87,
    0x18,
    ...parameters.adminKey,
    0x88,
    0x03,
    0xb0,
    0x73,
    0xdc,
  );
  commands.push(putData(0x3fff, 0x70, keyTemplate));
  keyTemplate.fill(0);
  const masterFile = Uint8Array.from(INITIAL_MASTER_FILE);
  const cardcfFile = parameters.readOnlyCardcf ? 0xa012 : 0xa010;
  // Record 4 (cardcf): its EF identifier is the last 4 bytes of the record.
  masterFile[1 + 3 * 28 + 24] = cardcfFile & 0xff;
  masterFile[1 + 3 * 28 + 25] = cardcfFile >> 8;
  commands.push(
    putData(0xa000, 0xdf1f, masterFile),
    putData(0xa010, 0xdf21, CARDAPPS),
    putData(cardcfFile, 0xdf22, new Uint8Array(6)),
    putData(0xa010, 0xdf23, new Uint8Array(0)),
    putData(0xa012, 0xdf20, parameters.cardId),
    command(0xa4, 0x00, 0x0c, Uint8Array.of(0x3f, 0xff)),
    command(0x44, 0x00, 0x00),
  );
  return commands;
}
