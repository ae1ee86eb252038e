/** PIV status words → ScardError per operation (docs/spec/piv.md §7, docs/spec/minidriver.md §5.2/§6.8). */
import { describe, expect, it } from 'vitest';
import { pivStatusError } from './piv-status.js';

describe('pivStatusError', () => {
  it('PIN commands: 63C2 → SCARD_W_WRONG_CHV (2 left), 63C0 and 6983 → SCARD_W_CHV_BLOCKED (0)', () => {
    expect(pivStatusError(0x63c2, 'pin', 'VERIFY')).toMatchObject({ name: 'SCARD_W_WRONG_CHV', retriesLeft: 2 });
    expect(pivStatusError(0x63c0, 'pin', 'VERIFY')).toMatchObject({ name: 'SCARD_W_CHV_BLOCKED', retriesLeft: 0 });
    expect(pivStatusError(0x6983, 'pin', 'VERIFY')).toMatchObject({ name: 'SCARD_W_CHV_BLOCKED', retriesLeft: 0 });
    expect(pivStatusError(0x6a88, 'pin', 'VERIFY')).toMatchObject({ name: 'SCARD_E_INVALID_PARAMETER' });
  });
  it('a refused management key response is SCARD_W_WRONG_CHV without a count (PIV keeps none)', () => {
    const error = pivStatusError(0x6982, 'management-key', 'auth');
    expect(error).toMatchObject({ name: 'SCARD_W_WRONG_CHV', statusWord: 0x6982 });
    expect(error.retriesLeft).toBeUndefined();
  });
  it('private key use: 6982 → SCARD_W_SECURITY_VIOLATION, 6A88 → SCARD_E_NO_KEY_CONTAINER', () => {
    expect(pivStatusError(0x6982, 'private-key', 'sign')).toMatchObject({ name: 'SCARD_W_SECURITY_VIOLATION' });
    expect(pivStatusError(0x6a88, 'private-key', 'sign')).toMatchObject({ name: 'SCARD_E_NO_KEY_CONTAINER' });
  });
  it('data: 6A84 (no room) → SCARD_E_WRITE_TOO_MANY, 6D00 → SCARD_E_UNSUPPORTED_FEATURE', () => {
    expect(pivStatusError(0x6a84, 'data', 'PUT DATA')).toMatchObject({ name: 'SCARD_E_WRITE_TOO_MANY' });
    expect(pivStatusError(0x6d00, 'data', 'DELETE KEY')).toMatchObject({ name: 'SCARD_E_UNSUPPORTED_FEATURE' });
  });
});
