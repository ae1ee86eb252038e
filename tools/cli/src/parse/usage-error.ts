/**
 * The error for a command line the CLI cannot accept (exit code 2).
 */

/** A wrong command line: unknown command or option, missing or malformed argument. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the `minidriver` command. */
export const ExitCode = {
  SUCCESS: 0,
  /** A card or PC/SC error (the message names the SCARD code). */
  CARD_ERROR: 1,
  /** A usage error. */
  USAGE: 2,
  /** Cancelled by the user (Ctrl-C): SCARD_W_CANCELLED_BY_USER, 128 + SIGINT. */
  CANCELLED: 130,
} as const;
