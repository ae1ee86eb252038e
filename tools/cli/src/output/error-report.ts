/**
 * Turning a failure into the message and exit code the CLI ends with: usage errors exit 2,
 * card and PC/SC errors exit 1 and name their SCARD code.
 */

import { formatStatusWord } from '@minidriver/iso7816';
import { ScardError, toHex } from '@minidriver/spec';
import { messageWithoutCode } from '../card/pcsc-failure.js';
import { ExitCode, UsageError } from '../parse/usage-error.js';

/** What the CLI prints and returns for a failure. */
export interface ErrorReport {
  readonly exitCode: number;
  readonly message: string;
  readonly json: Record<string, unknown>;
}

/** "1 try left", "3 tries left", "no tries left". */
export function triesLeftText(count: number): string {
  return count === 0 ? 'no tries left' : `${count} ${count === 1 ? 'try' : 'tries'} left`;
}

/** Builds the report of `error`. */
export function reportError(error: unknown): ErrorReport {
  if (error instanceof UsageError) {
    return {
      exitCode: ExitCode.USAGE,
      message: `usage error: ${error.message}`,
      json: { error: { kind: 'usage', message: error.message } },
    };
  }
  const scard = ScardError.from(error);
  // Ctrl-C at a prompt or during an operation: the shell's convention for SIGINT, 128 + 2.
  const cancelled = ScardError.hasCode(scard, 'SCARD_W_CANCELLED_BY_USER');
  const code = `0x${(scard.code >>> 0).toString(16).padStart(8, '0')}`;
  const details: string[] = [];
  if (scard.retriesLeft !== undefined && !/tr(y|ies) left/.test(scard.message))
    details.push(triesLeftText(scard.retriesLeft));
  if (scard.statusWord !== undefined && !scard.message.toUpperCase().includes(formatStatusWord(scard.statusWord)))
    details.push(`SW ${toHex(Uint8Array.of(scard.statusWord >> 8, scard.statusWord & 0xff))}`);
  const message = `${scard.name} (${code}): ${messageWithoutCode(scard)}${details.length ? ` [${details.join(', ')}]` : ''}`;
  return {
    exitCode: cancelled ? ExitCode.CANCELLED : ExitCode.CARD_ERROR,
    message,
    json: {
      error: {
        kind: 'card',
        code: scard.name,
        value: code,
        message: messageWithoutCode(scard),
        ...(scard.retriesLeft === undefined ? {} : { retriesLeft: scard.retriesLeft }),
      },
    },
  };
}

/** The report of Ctrl-C during an operation (not at a prompt). */
export function interruptReport(): ErrorReport {
  return reportError(new ScardError('SCARD_W_CANCELLED_BY_USER', 'interrupted (Ctrl-C)'));
}
