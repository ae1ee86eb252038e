/**
 * Reading DER from PEM (RFC 7468) or raw DER input; writing PEM is @minidriver/core's toPem.
 */
import { UsageError } from '../parse/usage-error.js';

/** The DER inside a PEM block labelled `label`, or the input itself when it is already DER. */
export function derFromPemOrDer(input: Uint8Array, label: string): Uint8Array {
  const text = Buffer.from(input).toString('latin1');
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (match) return new Uint8Array(Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64'));
  if (input[0] === 0x30) return input;
  throw new UsageError(`the input is neither a PEM ${label} nor DER`);
}
