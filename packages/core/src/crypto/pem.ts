/**
 * PEM armour (RFC 7468 strict form): base64 in 64-character lines between BEGIN/END lines.
 *
 * @packageDocumentation
 */
import { ScardError } from '@minidriver/spec';

/** DER wrapped as PEM with `label` (`CERTIFICATE`, `PUBLIC KEY`), ending in a newline. */
export function toPem(der: Uint8Array, label: string): string {
  if (!/^[\x21-\x2c\x2e-\x7e]+([- ][\x21-\x2c\x2e-\x7e]+)*$/.test(label))
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'PEM label must be printable ASCII (RFC 7468 label)');
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.map((line) => `${line}\n`).join('')}-----END ${label}-----\n`;
}
