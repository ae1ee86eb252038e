import { fromHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeCommand, describeResponse, describeTlv } from './apdu-format.js';

describe('APDU description', () => {
  it('names the command, shows Lc/Le and decodes TLV data', () => {
    // PIV GET DATA of the CHUID (docs/spec/piv.md: 00 CB 3F FF 05 5C 03 5F C1 02 00).
    expect(describeCommand(fromHex('00cb3fff055c035fc10200'), false)).toEqual([
      '> GET DATA  00cb3fff Lc=5 5c035fc102 Le=256',
      '    5c (3) 5fc102',
    ]);
  });

  it('shows redacted data as ** and never decodes it', () => {
    expect(describeCommand(fromHex(`0020008008${'00'.repeat(8)}`), true)).toEqual(['> VERIFY  00200080 Lc=8 **']);
  });

  it('describes status words', () => {
    expect(describeResponse(fromHex('63c2'))).toEqual(['< 63C2 verification failed, 2 tries left (counter 2)']);
    expect(describeResponse(fromHex('9000'))[0]).toBe('< 9000 success');
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, redacted) => {
        expect(Array.isArray(describeCommand(bytes, redacted))).toBe(true);
        expect(Array.isArray(describeResponse(bytes))).toBe(true);
        describeTlv(bytes);
      }),
    );
  });
});
