import { ScardCode, ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { CKR } from './constants.js';
import { ckrFromError, ckrName, Pkcs11Error, SCARD_TO_CKR } from './errors.js';

describe('ScardError -> CK_RV', () => {
  it('maps the errors PKCS #11 applications act on', () => {
    expect(ckrFromError(new ScardError('SCARD_W_WRONG_CHV', 'wrong', { retriesLeft: 2 }))).toBe(CKR.PIN_INCORRECT);
    expect(ckrFromError(new ScardError('SCARD_W_WRONG_CHV', 'wrong', { retriesLeft: 0 }))).toBe(CKR.PIN_LOCKED);
    expect(ckrFromError(new ScardError('SCARD_W_CHV_BLOCKED'))).toBe(CKR.PIN_LOCKED);
    expect(ckrFromError(new ScardError('SCARD_W_REMOVED_CARD'))).toBe(CKR.DEVICE_REMOVED);
    expect(ckrFromError(new ScardError('SCARD_E_UNSUPPORTED_FEATURE'))).toBe(CKR.FUNCTION_NOT_SUPPORTED);
    expect(ckrFromError(new ScardError('SCARD_E_INVALID_PARAMETER'))).toBe(CKR.ARGUMENTS_BAD);
    expect(ckrFromError(new ScardError('SCARD_W_SECURITY_VIOLATION'))).toBe(CKR.USER_NOT_LOGGED_IN);
    expect(ckrFromError(new ScardError('SCARD_W_CANCELLED_BY_USER'))).toBe(CKR.FUNCTION_CANCELED);
    expect(ckrFromError(new ScardError('SCARD_E_READ_ONLY_CARD'))).toBe(CKR.TOKEN_WRITE_PROTECTED);
  });

  it('keeps a Pkcs11Error its own CK_RV; other exceptions are CKR_GENERAL_ERROR, unlisted codes CKR_FUNCTION_FAILED', () => {
    expect(ckrFromError(new Pkcs11Error(CKR.MECHANISM_INVALID))).toBe(CKR.MECHANISM_INVALID);
    expect(ckrFromError(new TypeError('x'))).toBe(CKR.GENERAL_ERROR);
    expect(ckrFromError(new ScardError('SCARD_E_ICC_CREATEORDER'))).toBe(CKR.FUNCTION_FAILED);
  });

  it('names only real ScardError codes and real CK_RVs in the table', () => {
    const codes = Object.keys(ScardCode);
    const rvs = new Set<number>(Object.values(CKR));
    for (const [name, rv] of Object.entries(SCARD_TO_CKR)) {
      expect(codes).toContain(name);
      expect(rvs.has(rv)).toBe(true);
    }
    expect(ckrName(CKR.PIN_INCORRECT)).toBe('CKR_PIN_INCORRECT');
    expect(ckrName(0x12345)).toBe('CKR_0x12345');
  });
});
