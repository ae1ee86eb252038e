/**
 * @module Turning a failure into the message and exit code the CLI ends with: usage errors exit 2,
 * card and PC/SC errors exit 1 and name their SCARD code.
 */
import { ScardError, toHex } from '@minidriver/core';
import { formatStatusWord } from '@minidriver/iso7816';
import { messageWithoutCode } from '../card/pcsc-failure.js';
import { ExitCode, UsageError } from '../parse/usage-error.js';

/** What the CLI prints and returns for a failure. */
export interface ErrorReport {
  readonly exitCode: number;
  readonly message: string;
  readonly json: Record<string, unknown>;
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
  const code = `0x${(scard.code >>> 0).toString(16).padStart(8, '0')}`;
  const details: string[] = [];
  if (scard.retriesLeft !== undefined && !/tries left/.test(scard.message))
    details.push(`${scard.retriesLeft} retries left`);
  if (scard.statusWord !== undefined && !scard.message.toUpperCase().includes(formatStatusWord(scard.statusWord)))
    details.push(`SW ${toHex(Uint8Array.of(scard.statusWord >> 8, scard.statusWord & 0xff))}`);
  const message = `${scard.name} (${code}): ${messageWithoutCode(scard)}${details.length ? ` [${details.join(', ')}]` : ''}`;
  return {
    exitCode: ExitCode.CARD_ERROR,
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
