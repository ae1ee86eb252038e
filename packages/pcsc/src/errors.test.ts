import { ScardCode, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { scardFailure } from './errors.js';
import { pcscPlatform } from './platform.js';

describe('scardFailure', () => {
  it('keeps the exact code of every PC/SC return value and names the function and reader', () => {
    const pcscCodes = Object.entries(ScardCode).filter(([name]) => /^SCARD_[EFWP]_/.test(name));
    expect(pcscCodes.length).toBeGreaterThan(60);
    for (const [name, code] of pcscCodes) {
      const error = scardFailure(code, 'SCardTransmit', 'Reader 0');
      expect(ScardError.isInstance(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.message).toContain('SCardTransmit on reader "Reader 0"');
    }
  });

  it('turns a signed LONG (macOS, Windows) into the unsigned code', () => {
    expect(scardFailure(0x80100068 | 0, 'SCardTransmit').name).toBe('SCARD_W_RESET_CARD');
  });

  it('says how to start the service for SCARD_E_NO_SERVICE instead of a bare code', () => {
    const error = scardFailure(0x8010001d, 'SCardEstablishContext');
    expect(error.name).toBe('SCARD_E_NO_SERVICE');
    expect(error.message).toContain(pcscPlatform().serviceHint);
    if (process.platform === 'linux') expect(error.message).toContain('pcscd is not running');
  });

  it('keeps an unknown code as its hex value', () => {
    expect(scardFailure(0x801000ff, 'SCardConnect').code).toBe(0x801000ff);
  });
});

describe('pcscPlatform', () => {
  it('describes the three ABIs', () => {
    expect(pcscPlatform('linux')).toMatchObject({
      dwordType: 'unsigned long',
      handleType: 'long',
      readerStateAtrLength: 33,
    });
    expect(pcscPlatform('darwin')).toMatchObject({ dwordType: 'uint32', handleType: 'int32', packedReaderState: true });
    expect(pcscPlatform('win32')).toMatchObject({
      dwordType: 'uint32',
      handleType: 'uintptr_t',
      stringSuffix: 'A',
      readerStateAtrLength: 36,
    });
  });

  it('computes SCARD_CTL_CODE(3400) per platform', () => {
    expect(pcscPlatform('linux').controlCode(3400)).toBe(0x42000d48);
    expect(pcscPlatform('win32').controlCode(3400)).toBe(0x00313520);
  });
});
