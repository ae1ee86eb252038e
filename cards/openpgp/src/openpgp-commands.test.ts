/**
 * APDU builders, byte for byte against the commands of docs/spec/openpgp.md §2 and §4.
 */

import { encodeCommandApdu } from '@minidriver/iso7816';
import { toHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import {
  changeReferenceDataCommand,
  computeDigitalSignatureCommand,
  decipherCommand,
  generateKeyPairCommand,
  getDataCommand,
  importKeyCommand,
  internalAuthenticateCommand,
  PasswordReference,
  putDataCommand,
  resetRetryCounterAsAdminCommand,
  resetRetryCounterWithCodeCommand,
  resetVerificationCommand,
  selectCertificateCommand,
  selectCommand,
  verifyCommand,
  verifyStatusCommand,
} from './openpgp-commands.js';

const hex = (apdu: Parameters<typeof encodeCommandApdu>[0]) => toHex(encodeCommandApdu(apdu), ' ');

describe('OpenPGP commands', () => {
  it('SELECT by the partial AID (docs/spec/openpgp.md §2)', () => {
    expect(hex(selectCommand())).toBe('00 a4 04 00 06 d2 76 00 01 24 01 00');
  });

  it('GET DATA / PUT DATA put the tag in P1-P2', () => {
    expect(hex(getDataCommand(0x6e))).toBe('00 ca 00 6e 00');
    expect(hex(getDataCommand(0x7f21))).toBe('00 ca 7f 21 00');
    expect(hex(putDataCommand(0xce, Uint8Array.of(1, 2, 3, 4)))).toBe('00 da 00 ce 04 01 02 03 04');
  });

  it('SELECT DATA names an occurrence of 7F21 (docs/spec/openpgp.md §4.6)', () => {
    expect(hex(selectCertificateCommand(2))).toBe('00 a5 02 04 06 60 04 5c 02 7f 21');
  });

  it('VERIFY, empty VERIFY and logout', () => {
    expect(hex(verifyCommand(PasswordReference.otherPw1, Uint8Array.of(0x31, 0x32)))).toBe('00 20 00 82 02 31 32');
    expect(hex(verifyStatusCommand(PasswordReference.signaturePw1))).toBe('00 20 00 81');
    expect(hex(resetVerificationCommand(PasswordReference.pw3))).toBe('00 20 ff 83');
  });

  it('CHANGE REFERENCE DATA and RESET RETRY COUNTER (docs/spec/openpgp.md §4.2)', () => {
    expect(hex(changeReferenceDataCommand(0x83, Uint8Array.of(1, 2)))).toBe('00 24 00 83 02 01 02');
    expect(hex(resetRetryCounterWithCodeCommand(Uint8Array.of(9)))).toBe('00 2c 00 81 01 09');
    expect(hex(resetRetryCounterAsAdminCommand(Uint8Array.of(9)))).toBe('00 2c 02 81 01 09');
  });

  it('PSO:CDS, PSO:DECIPHER, INTERNAL AUTHENTICATE', () => {
    expect(hex(computeDigitalSignatureCommand(Uint8Array.of(0xaa)))).toBe('00 2a 9e 9a 01 aa 00');
    expect(hex(decipherCommand(Uint8Array.of(0x00, 0xbb)))).toBe('00 2a 80 86 02 00 bb 00');
    expect(hex(internalAuthenticateCommand(Uint8Array.of(0xcc)))).toBe('00 88 00 00 01 cc 00');
  });

  it('GENERATE ASYMMETRIC KEY PAIR with the CRT of each slot (docs/spec/openpgp.md §4.7)', () => {
    expect(hex(generateKeyPairCommand(0, 'generate'))).toBe('00 47 80 00 02 b6 00 00');
    expect(hex(generateKeyPairCommand(1, 'read'))).toBe('00 47 81 00 02 b8 00 00');
    expect(hex(generateKeyPairCommand(2, 'generate'))).toBe('00 47 80 00 02 a4 00 00');
  });

  it('key import uses the odd PUT DATA 00 DB 3F FF', () => {
    expect(hex(importKeyCommand(Uint8Array.of(0x4d, 0x00)))).toBe('00 db 3f ff 02 4d 00');
  });
});
