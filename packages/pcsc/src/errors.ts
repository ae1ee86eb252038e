/**
 * Turns a PC/SC return code into a ScardError that names the SCard function and the reader, with
 * the exact code (SCARD_E_NO_SERVICE 0x8010001D, SCARD_W_RESET_CARD 0x80100068, ...).
 */
import { ScardCode, ScardError } from '@minidriver/spec';
import { pcscPlatform } from './platform.js';

/** True when `code` is SCARD_S_SUCCESS. */
export function succeeded(code: number): boolean {
  return code >>> 0 === ScardCode.SCARD_S_SUCCESS;
}

/**
 * The ScardError for a failed SCard* call. `functionName` is the C function ("SCardConnect"), `readerName`
 * the reader involved, if any. SCARD_E_NO_SERVICE and SCARD_E_SERVICE_STOPPED carry a hint on how to start
 * the service instead of a bare code, because "pcscd is not running" is the most common failure.
 */
export function scardFailure(code: number, functionName: string, readerName?: string): ScardError {
  const numeric = code >>> 0;
  const where = readerName === undefined ? functionName : `${functionName} on reader "${readerName}"`;
  if (numeric === ScardCode.SCARD_E_NO_SERVICE || numeric === ScardCode.SCARD_E_SERVICE_STOPPED) {
    return new ScardError(numeric, `${where} failed: ${pcscPlatform().serviceHint}`);
  }
  return new ScardError(numeric, `${where} failed`);
}

/** Throws {@link scardFailure} unless `code` is SCARD_S_SUCCESS. */
export function check(code: number, functionName: string, readerName?: string): void {
  if (!succeeded(code)) throw scardFailure(code, functionName, readerName);
}
