/**
 * @module PEM armour (RFC 7468): wrapping DER, and reading DER from PEM or raw DER input.
 */
import { UsageError } from '../parse/usage-error.js';

/** DER wrapped as PEM with `label` (`CERTIFICATE`, `PUBLIC KEY`). */
export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/** The DER inside a PEM block labelled `label`, or the input itself when it is already DER. */
export function derFromPemOrDer(input: Uint8Array, label: string): Uint8Array {
  const text = Buffer.from(input).toString('latin1');
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (match) return new Uint8Array(Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64'));
  if (input[0] === 0x30) return input;
  throw new UsageError(`the input is neither a PEM ${label} nor DER`);
}
