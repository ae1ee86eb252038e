/** APDU builders against the command bytes printed in docs/spec/piv.md §6 (and docs/spec/piv.md §8 for the Yubico extensions). */

import { encodeCommandApdu } from '@minidriver/iso7816';
import { toHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import {
  generalAuthenticateCommand,
  generateKeyCommand,
  getDataCommand,
  getMetadataCommand,
  logoutCommand,
  putDataCommand,
  resetRetryCounterCommand,
  selectCommand,
  verifyCommand,
} from './piv-commands.js';

const hex = (apdu: Parameters<typeof encodeCommandApdu>[0]) => toHex(encodeCommandApdu(apdu));

describe('PIV command APDUs', () => {
  it('SELECT: 00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00 (docs/spec/piv.md §2)', () => {
    expect(hex(selectCommand())).toBe('00a4040009a0000003080000100000');
  });
  it('GET DATA of the 9A certificate: 00 CB 3F FF 05 5C 03 5F C1 05 00 (docs/spec/piv.md §6.2); extended Le 00 00 asks for all', () => {
    // A short channel sends Le 00 (256, the rest by GET RESPONSE); an extended one asks for the whole object.
    expect(hex({ ...getDataCommand(0x5fc105), le: 256 })).toBe('00cb3fff055c035fc10500');
    expect(hex(getDataCommand(0x5fc105))).toBe('00cb3fff0000055c035fc1050000');
  });
  it('GET DATA of the discovery object: 5C 01 7E (docs/spec/piv.md §6.2)', () => {
    expect(hex({ ...getDataCommand(0x7e), le: 256 })).toBe('00cb3fff035c017e00');
  });
  it('PUT DATA: 00 DB 3F FF Lc 5C 03 <tag> 53 00 (docs/spec/piv.md §4.1 delete)', () => {
    expect(hex(putDataCommand(0x5fc105, Uint8Array.of(0x53, 0x00)))).toBe('00db3fff075c035fc1055300');
  });
  it('VERIFY 00 20 00 80 08 <PIN FF-padded>, its status query, and logout 00 20 FF 80 (docs/spec/piv.md §6.3)', () => {
    expect(hex(verifyCommand(0x80, Uint8Array.from(Buffer.from('313233343536ffff', 'hex'))))).toBe(
      '0020008008313233343536ffff',
    );
    expect(hex(verifyCommand(0x80))).toBe('00200080');
    expect(hex(logoutCommand(0x80))).toBe('0020ff80');
  });
  it('RESET RETRY COUNTER 00 2C 00 80 10 <PUK> <PIN> (docs/spec/piv.md §6.5)', () => {
    const puk = Uint8Array.from(Buffer.from('3132333435363738', 'hex'));
    const pin = Uint8Array.from(Buffer.from('313233343536ffff', 'hex'));
    expect(hex(resetRetryCounterCommand(puk, pin))).toBe('002c0080103132333435363738313233343536ffff');
  });
  it('management key challenge request 00 87 03 9B 04 7C 02 81 00 00 (docs/spec/piv.md §6.6)', () => {
    expect(hex(generalAuthenticateCommand(0x03, 0x9b, [{ tag: 0x81, value: new Uint8Array(0) }]))).toBe(
      '008703 9b047c02810000'.replace(/ /g, ''),
    );
  });
  it('GENERATE RSA-2048 in 9A: 00 47 00 9A 05 AC 03 80 01 07 00 (docs/spec/piv.md §6.7)', () => {
    expect(hex({ ...generateKeyCommand(0x9a, 0x07), le: 256 })).toBe('0047009a05ac0380010700');
    expect(hex(generateKeyCommand(0x9a, 0x07))).toBe('0047009a000005ac038001070000');
  });
  it('GET METADATA of 9A: 00 F7 00 9A 00 (docs/spec/piv.md §8)', () => {
    expect(hex({ ...getMetadataCommand(0x9a), le: 256 })).toBe('00f7009a00');
    expect(hex(getMetadataCommand(0x9a))).toBe('00f7009a000000');
  });
});
