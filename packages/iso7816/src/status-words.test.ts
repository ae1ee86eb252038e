import { ScardCode, ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeStatusWord,
  formatStatusWord,
  retriesFromStatusWord,
  SW,
  statusWordToScardError,
} from './status-words.js';

describe('SW constants (docs/spec/iso7816.md §3)', () => {
  it('hold the interindustry values', () => {
    expect(SW.SUCCESS).toBe(0x9000);
    expect(SW.SECURITY_STATUS_NOT_SATISFIED).toBe(0x6982);
    expect(SW.AUTH_METHOD_BLOCKED).toBe(0x6983);
    expect(SW.FILE_NOT_FOUND).toBe(0x6a82);
    expect(SW.REFERENCED_DATA_NOT_FOUND).toBe(0x6a88);
    expect(SW.CHAINING_NOT_SUPPORTED).toBe(0x6884);
    expect(SW.NO_PRECISE_DIAGNOSIS).toBe(0x6f00);
  });
});

describe('statusWordToScardError (docs/spec/iso7816.md §4.3)', () => {
  it.each([
    [0x63c3, 'SCARD_W_WRONG_CHV', 3],
    [0x63c1, 'SCARD_W_WRONG_CHV', 1],
    [0x63cf, 'SCARD_W_WRONG_CHV', 15],
    [0x63c0, 'SCARD_W_CHV_BLOCKED', 0],
    [0x6983, 'SCARD_W_CHV_BLOCKED', 0],
  ])('PIN counter %s → %s with retriesLeft %s', (statusWord, name, retries) => {
    const error = statusWordToScardError(statusWord, 'VERIFY PIN');
    expect(error.name).toBe(name);
    expect(error.code).toBe(ScardCode[name as keyof typeof ScardCode]);
    expect(error.retriesLeft).toBe(retries);
    expect(error.statusWord).toBe(statusWord);
  });

  // Data that exists but cannot be read is SCARD_E_COMM_DATA_LOST (Smart Card Minidriver Specification
  // error conventions, docs/spec/minidriver.md §1.5): 6281 "part of returned data may be corrupted" and
  // 6581 "memory failure" (ISO/IEC 7816-4 §5.6 status bytes, docs/spec/iso7816.md).
  it.each([
    [0x6281, 'SCARD_E_COMM_DATA_LOST'],
    [0x6581, 'SCARD_E_COMM_DATA_LOST'],
  ])('data that cannot be read: %s → %s', (statusWord, name) => {
    expect(statusWordToScardError(statusWord, 'READ').name).toBe(name);
  });

  it.each([
    [0x6982, 'SCARD_W_SECURITY_VIOLATION'],
    [0x6900, 'SCARD_W_SECURITY_VIOLATION'],
    [0x6985, 'SCARD_W_SECURITY_VIOLATION'],
    [0x6986, 'SCARD_W_SECURITY_VIOLATION'],
    [0x6a82, 'SCARD_E_FILE_NOT_FOUND'],
    [0x6a88, 'SCARD_E_FILE_NOT_FOUND'],
    [0x6a84, 'SCARD_E_WRITE_TOO_MANY'],
    [0x6700, 'SCARD_E_INVALID_PARAMETER'],
    [0x6a80, 'SCARD_E_INVALID_PARAMETER'],
    [0x6a85, 'SCARD_E_INVALID_PARAMETER'],
    [0x6a86, 'SCARD_E_INVALID_PARAMETER'],
    [0x6a87, 'SCARD_E_INVALID_PARAMETER'],
    [0x6b00, 'SCARD_E_INVALID_PARAMETER'],
    [0x6a81, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6d00, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6e00, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6881, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6882, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6884, 'SCARD_E_UNSUPPORTED_FEATURE'],
    [0x6988, 'SCARD_E_COMM_DATA_LOST'],
    [0x6283, 'SCARD_E_CARD_UNSUPPORTED'],
    [0x6285, 'SCARD_E_CARD_UNSUPPORTED'],
    [0x6f00, 'SCARD_E_UNEXPECTED'],
    [0x1234, 'SCARD_E_UNEXPECTED'],
    [0x9000, 'SCARD_E_UNEXPECTED'],
    [0x6108, 'SCARD_E_UNEXPECTED'],
  ])('%s → %s', (statusWord, name) => {
    const error = statusWordToScardError(statusWord);
    expect(ScardError.isInstance(error)).toBe(true);
    expect(error.name).toBe(name);
    expect(error.statusWord).toBe(statusWord);
    expect(error.retriesLeft).toBeUndefined();
  });

  it('puts the context, meaning and SW in the message', () => {
    expect(statusWordToScardError(0x6a82, 'GET DATA 5FC105').message).toBe(
      'SCARD_E_FILE_NOT_FOUND: GET DATA 5FC105: file, application or data object not found (SW 6A82)',
    );
  });

  it('PIN commands: 630x counts (YubiKey NEO quirk, docs/spec/iso7816.md §3), 6300 is wrong PIN, 6A80 is a bad PIN format', () => {
    expect(statusWordToScardError(0x6302, 'VERIFY', { pinCommand: true })).toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 2,
    });
    expect(statusWordToScardError(0x6302).name).toBe('SCARD_E_UNEXPECTED');
    expect(statusWordToScardError(0x6300, 'VERIFY', { pinCommand: true }).name).toBe('SCARD_W_WRONG_CHV');
    expect(statusWordToScardError(0x6a80, 'VERIFY', { pinCommand: true }).name).toBe('SCARD_E_INVALID_CHV');
  });
});

describe('retriesFromStatusWord', () => {
  it('reads 63Cx only, 630x with acceptLegacyCounter', () => {
    expect(retriesFromStatusWord(0x63c2)).toBe(2);
    expect(retriesFromStatusWord(0x63c0)).toBe(0);
    expect(retriesFromStatusWord(0x6983)).toBeUndefined();
    expect(retriesFromStatusWord(0x6303)).toBeUndefined();
    expect(retriesFromStatusWord(0x6303, { acceptLegacyCounter: true })).toBe(3);
    expect(retriesFromStatusWord(0x6300, { acceptLegacyCounter: true })).toBeUndefined();
  });
});

describe('describeStatusWord', () => {
  it('describes exact words and families', () => {
    expect(describeStatusWord(0x9000)).toBe('success');
    expect(describeStatusWord(0x6982)).toBe('security status not satisfied');
    expect(describeStatusWord(0x6108)).toBe('success, 8 further response bytes available');
    expect(describeStatusWord(0x6100)).toBe('success, 256 or more further response bytes available');
    expect(describeStatusWord(0x6c10)).toBe('wrong Le, exact length is 16');
    expect(describeStatusWord(0x63c1)).toBe('verification failed, 1 try left (counter 1)');
    expect(describeStatusWord(0x1234)).toBe('unknown status word');
    expect(formatStatusWord(0x6a82)).toBe('6A82');
  });

  it('always returns text and the mapper always returns a ScardError (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (statusWord, pinCommand) => {
        expect(describeStatusWord(statusWord).length).toBeGreaterThan(0);
        const error = statusWordToScardError(statusWord, undefined, { pinCommand });
        expect(ScardError.isInstance(error)).toBe(true);
        expect(error.statusWord).toBe(statusWord);
      }),
    );
  });
});
