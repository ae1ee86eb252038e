/**
 * Turning PC/SC failures into the one-line explanation a user can act on.
 */
import { ScardError } from '@minidriver/spec';

/** The hint every "no card to talk to" message ends with. */
export const TRY_SIMULATOR_HINT = 'try `minidriver --sim piv <command>` to use the built-in simulated PIV card';

/** Codes meaning there is no PC/SC service (daemon down, library missing). */
const NO_SERVICE_CODES = new Set([
  'SCARD_E_NO_SERVICE',
  'SCARD_E_SERVICE_STOPPED',
  'SCARD_F_COMM_ERROR',
  'SCARD_F_INTERNAL_ERROR',
]);
/** Codes meaning there is no card to talk to. */
const NO_CARD_CODES = new Set([
  'SCARD_E_NO_SMARTCARD',
  'SCARD_W_REMOVED_CARD',
  'SCARD_E_NO_READERS_AVAILABLE',
  'SCARD_E_UNKNOWN_READER',
]);

/** The message of `error` without its leading `SCARD_X: ` (the CLI prints the code once). */
export function messageWithoutCode(error: ScardError): string {
  return error.message.startsWith(`${error.name}: `) ? error.message.slice(error.name.length + 2) : error.message;
}

/**
 * Rewrites a failure to reach PC/SC or a card into a ScardError (same code) whose message says what
 * happened in one line and ends with the hint to try the simulator.
 */
export function explainPcscFailure(error: unknown): ScardError {
  const scard = ScardError.from(error, 'PC/SC');
  const code = scard.code;
  if (NO_SERVICE_CODES.has(scard.name)) {
    const inner = messageWithoutCode(scard);
    const explanation = inner.includes('pcscd is not running')
      ? inner
      : `pcscd is not running or cannot be reached (${inner})`;
    return new ScardError(code, `${explanation}; ${TRY_SIMULATOR_HINT}`, { cause: error });
  }
  if (NO_CARD_CODES.has(scard.name)) {
    const what =
      scard.name === 'SCARD_E_NO_READERS_AVAILABLE'
        ? 'no smart card reader is connected'
        : scard.name === 'SCARD_E_UNKNOWN_READER'
          ? messageWithoutCode(scard)
          : 'no card is present in the reader';
    return new ScardError(code, `${what}; ${TRY_SIMULATOR_HINT}`, { cause: error });
  }
  return scard;
}
