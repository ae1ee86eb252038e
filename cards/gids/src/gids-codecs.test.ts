/**
 * The GIDS codecs byte for byte: the master file table (Microsoft's initial table as the golden value), the key
 * map, key file FCPs against OpenSC's, the public key template, and the command builders — plus property tests
 * that every decoder either round-trips or throws ScardError.
 */

import { encodeCommandApdu } from '@minidriver/iso7816';
import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INITIAL_MASTER_FILE } from '../sim/index.js';
import { checkCardCryptogram, mutualChallenge } from './gids-admin-challenge.js';
import * as commands from './gids-commands.js';
import { FileTable } from './gids-file-table.js';
import { keyFileFcp, Mechanism, mechanismFor, mechanismSize } from './gids-key-files.js';
import { decodeKeyMap, encodeKeyMap } from './gids-key-map.js';
import { decodePublicKeyTemplate } from './gids-public-key.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const wire = (apdu: Parameters<typeof encodeCommandApdu>[0]) => hex(encodeCommandApdu(apdu));
const throwsScardError = (action: () => unknown) => {
  try {
    action();
    return false;
  } catch (error) {
    return error instanceof ScardError;
  }
};

describe('GIDS master file table', () => {
  it("decodes Microsoft's initial table (docs/spec/gids.md §3.2) and encodes it back byte for byte", () => {
    const table = FileTable.decode(INITIAL_MASTER_FILE);
    expect(table.entries).toEqual([
      { directory: 'mscp', file: '', dataObject: 0, ef: 0xa000 },
      { directory: '', file: 'cardid', dataObject: 0xdf20, ef: 0xa012 },
      { directory: '', file: 'cardapps', dataObject: 0xdf21, ef: 0xa010 },
      { directory: '', file: 'cardcf', dataObject: 0xdf22, ef: 0xa010 },
      { directory: 'mscp', file: 'cmapfile', dataObject: 0xdf23, ef: 0xa010 },
    ]);
    expect(hex(table.encode())).toBe(hex(INITIAL_MASTER_FILE));
    expect(table.findFile('mscp', 'cmapfile')?.dataObject).toBe(0xdf23);
    expect(table.hasDirectory('mscp')).toBe(true);
    expect(table.filesIn('')).toEqual(['cardid', 'cardapps', 'cardcf']);
    expect(table.freeDataObject()).toBe(0xdf24);
    const grown = table.with({ directory: 'mscp', file: 'kxc00', dataObject: 0xdf24, ef: 0xa010 });
    expect(grown.encode().length).toBe(141 + 28);
    expect(grown.freeDataObject()).toBe(0xdf25);
    expect(hex(grown.without({ directory: 'mscp', file: 'kxc00' }).encode())).toBe(hex(INITIAL_MASTER_FILE));
  });

  it('refuses other versions, partial records, unterminated names and bad names', () => {
    expect(() => FileTable.decode(bytes('02'))).toThrow(/version 01/);
    expect(() => FileTable.decode(INITIAL_MASTER_FILE.subarray(0, 100))).toThrow(ScardError);
    const unterminated = Uint8Array.from(INITIAL_MASTER_FILE);
    unterminated.fill(0x41, 1, 10);
    expect(() => FileTable.decode(unterminated)).toThrow(/NUL/);
    expect(() => FileTable.of([{ directory: 'toolongname', file: '', dataObject: 0, ef: 0xa000 }])).toThrow(ScardError);
  });

  it('decodes any input to a table that re-encodes identically, or throws ScardError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        const candidate = Uint8Array.from([0x01, ...input]);
        try {
          const table = FileTable.decode(candidate);
          const again = FileTable.decode(table.encode());
          return JSON.stringify(again.entries) === JSON.stringify(table.entries);
        } catch (error) {
          return error instanceof ScardError;
        }
      }),
    );
  });
});

describe('GIDS key map', () => {
  it("encodes OpenSC's 12-byte records and decodes them back", () => {
    const records = [
      { inUse: true, mechanism: 0x07, keyType: 0x9a, keyFile: 0xb081 },
      { inUse: false, mechanism: 0, keyType: 0, keyFile: 0xffff },
    ];
    const encoded = encodeKeyMap(records);
    expect(hex(encoded)).toBe('01' + '01000000079a81b0ffff0000' + '000000000000ffffffff0000');
    expect(decodeKeyMap(encoded)).toEqual(records);
    expect(decodeKeyMap(new Uint8Array(0))).toEqual([]);
    expect(() => decodeKeyMap(bytes('0100'))).toThrow(ScardError);
  });

  it('decodes any input or throws ScardError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (input) => {
        try {
          return decodeKeyMap(input).length === Math.floor(input.length / 12);
        } catch (error) {
          return error instanceof ScardError;
        }
      }),
    );
  });
});

describe('GIDS key files', () => {
  it("builds OpenSC's key-exchange FCP for RSA 2048 in B081 (docs/spec/gids.md §4.5)", () => {
    expect(hex(keyFileFcp(0x81, 'keyExchange', Mechanism.rsa2048))).toBe(
      '62478201188302b0818c058f10101000a537' +
        'b809800107830181950140' +
        'b809800187830181950140' +
        'b809800147830181950140' +
        'b609800117830181950140' +
        'b609800157830181950140',
    );
    // Signature keys: OpenSC's template with the file's own reference (it hard-codes 83 01 83).
    expect(hex(keyFileFcp(0x82, 'signature', Mechanism.rsa1024))).toBe(
      '62268201188302b0828c058f10101000a516b609800116830182950140b609800156830182950140',
    );
    expect(() => keyFileFcp(0x80, 'ecdsa', Mechanism.p256)).toThrow(ScardError);
  });

  it('maps sizes to mechanisms and back', () => {
    expect(mechanismFor('rsa', 2048)).toBe(0x07);
    expect(mechanismFor('ec', 384)).toBe(0x0d);
    expect(mechanismFor('rsa', 1536)).toBeUndefined();
    expect(mechanismSize(0x0e)).toEqual({ rsa: false, bits: 521 });
  });
});

describe('GIDS public key template', () => {
  it('decodes RSA and EC templates, and refuses anything else', () => {
    expect(decodePublicKeyTemplate(bytes('7f49 0a 8103 00c001 8203 010001'))).toEqual({
      kind: 'rsa',
      modulus: bytes('c001'),
      exponent: bytes('010001'),
    });
    expect(decodePublicKeyTemplate(bytes('7f49 05 8603 040102'))).toEqual({ kind: 'ec', point: bytes('040102') });
    expect(() => decodePublicKeyTemplate(bytes('7f49 03 8601 05'))).toThrow(ScardError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          decodePublicKeyTemplate(input);
          return true;
        } catch (error) {
          return error instanceof ScardError;
        }
      }),
    );
  });
});

describe('GIDS commands', () => {
  it('are the APDUs of docs/spec/gids.md §4', () => {
    expect(wire(commands.selectApplication())).toBe('00a4040009a0000003974254465900');
    expect(wire(commands.getDataObject(0xa000, 0xdf1f))).toBe('00cba000045c02df1f00');
    expect(wire(commands.putDataObject(0xa010, 0xdf22, bytes('000100000000')))).toBe('00dba01009df2206000100000000');
    expect(wire(commands.getPinStatus())).toBe('00cb3fff045c027f7100');
    expect(wire(commands.verifyPin(bytes('31323334')))).toBe('002000800431323334');
    expect(wire(commands.deauthenticateAll())).toBe('00200082');
    expect(wire(commands.selectAdminKey())).toBe('0022c1a403830180');
    expect(wire(commands.setSecurityEnvironment('sign', 0x57, 0x81))).toBe('002241b606800157840181');
    expect(wire(commands.setSecurityEnvironment('decipher', 0x47, 0x81))).toBe('002241b806800147840181');
    expect(wire(commands.generateKeyPair(0x07, 0x81))).toBe('0047000008ac06800107830181');
    expect(wire(commands.readPublicKey(0x81))).toBe('00cb3fff0a7008840181a5037f498000');
    expect(wire(commands.resetPin(bytes('31323334')))).toBe('002c02800431323334');
    expect(wire(commands.selectFile(0xb081))).toBe('00a4000c02b081');
    expect(wire(commands.deleteCurrentFile())).toBe('00e40000');
    expect(wire(commands.importKey(0x81, bytes('3000'), true))).toBe(
      '00db3fff11700f840181a50a830102840100870230 00'.replace(/ /g, ''),
    );
  });

  it('turns the card answer into the 40-byte mutual challenge R2 ‖ R1 ‖ Z1 ‖ 80', () => {
    const r2 = bytes('00112233445566778899aabbccddeeff');
    const r1 = bytes('ffeeddccbbaa99887766554433221100');
    const block = mutualChallenge(Uint8Array.from([0x7c, 0x12, 0x81, 0x10, ...r2]), r1);
    expect(hex(block.subarray(0, 32))).toBe(hex(r2) + hex(r1));
    expect(block[39]).toBe(0x80);
    expect(throwsScardError(() => mutualChallenge(bytes('7c0a8108'), r1))).toBe(true);
    expect(throwsScardError(() => checkCardCryptogram(bytes('7c00')))).toBe(true);
  });
});
