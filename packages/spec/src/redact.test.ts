import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { redactCommand } from './redact.js';

describe('APDU trace redaction', () => {
  it('zeroes the data of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER, keeping Lc', () => {
    // PIV VERIFY of PIN "123456" padded with FF (SP 800-73-4 style): 00 20 00 80 08 31..36 FF FF
    const verify = fromHex('00 20 00 80 08 31 32 33 34 35 36 ff ff');
    expect(redactCommand(verify)).toEqual({
      command: fromHex('00 20 00 80 08 00 00 00 00 00 00 00 00'),
      redacted: true,
    });
    expect(redactCommand(fromHex('00 24 00 80 02 31 32')).command).toEqual(fromHex('00 24 00 80 02 00 00'));
    expect(redactCommand(fromHex('00 2c 00 80 02 31 32')).redacted).toBe(true);
    // Extended Lc.
    expect(toHex(redactCommand(fromHex('00 20 00 80 00 00 02 31 32 00 00')).command)).toBe('0020008000000200000000');
  });

  it('leaves other commands alone, including PIV GENERAL AUTHENTICATE of the management key', () => {
    const generalAuthenticate = fromHex('00 87 03 9b 04 7c 02 80 00');
    expect(redactCommand(generalAuthenticate)).toEqual({ command: generalAuthenticate, redacted: false });
    // A VERIFY without data (asking for the retry counter) has nothing to hide.
    expect(redactCommand(fromHex('00 20 00 80'))).toEqual({ command: fromHex('00 20 00 80'), redacted: false });
  });
});
