/**
 * @packageDocumentation
 * Key containers on a GIDS card: which cryptographic mechanism a minidriver key spec and size become
 * (docs/spec/gids.md §5.2), and the FCP of the key file CREATE FILE makes for it (docs/spec/gids.md §4.5). RSA files carry
 * OpenSC's templates (which mimic Microsoft's minidriver): a key-exchange file allows raw, OAEP and PKCS #1
 * decipherment and both signature forms; a signature file allows the signature forms only. EC files allow
 * ECDSA over a host hash (`B6`, 1x) for signature keys and ECDH (`B8`, raw) for key-agreement keys.
 */
import { ScardError } from '@minidriver/spec';

/** Mechanism identifiers (docs/spec/gids.md §5.2). */
export const Mechanism = {
  rsa1024: 0x06,
  rsa2048: 0x07,
  rsa3072: 0x08,
  rsa4096: 0x09,
  p256: 0x0c,
  p384: 0x0d,
  p521: 0x0e,
} as const;

/** What a key container holds, in GIDS terms. */
export type KeyRole = 'keyExchange' | 'signature' | 'ecdsa' | 'ecdh';

const RSA_MECHANISMS = new Map([
  [1024, Mechanism.rsa1024],
  [2048, Mechanism.rsa2048],
  [3072, Mechanism.rsa3072],
  [4096, Mechanism.rsa4096],
]);
const EC_MECHANISMS = new Map([
  [256, Mechanism.p256],
  [384, Mechanism.p384],
  [521, Mechanism.p521],
]);

/** The mechanism of an RSA key of `bits`, or of an EC key on the curve of `bits` (undefined when none). */
export function mechanismFor(kind: 'rsa' | 'ec', bits: number): number | undefined {
  return (kind === 'rsa' ? RSA_MECHANISMS : EC_MECHANISMS).get(bits);
}

/** The key size in bits of a mechanism, and whether it is RSA. */
export function mechanismSize(mechanism: number): { readonly rsa: boolean; readonly bits: number } | undefined {
  for (const [bits, id] of RSA_MECHANISMS) if (id === mechanism) return { rsa: true, bits };
  for (const [bits, id] of EC_MECHANISMS) if (id === mechanism) return { rsa: false, bits };
  return undefined;
}

/** The FCP of key file B0xx for a key of `role` and `mechanism`. */
export function keyFileFcp(keyReference: number, role: KeyRole, mechanism: number): Uint8Array {
  if (keyReference < 0x81 || keyReference > 0xfe) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `key reference ${keyReference} is outside 81..FE`);
  }
  const template = (crt: number, algorithm: number) => [
    crt,
    0x09,
    0x80,
    0x01,
    algorithm,
    0x83,
    0x01,
    keyReference,
    0x95,
    0x01,
    0x40,
  ];
  const templates: number[][] =
    role === 'keyExchange'
      ? [
          template(0xb8, mechanism),
          template(0xb8, 0x80 + mechanism),
          template(0xb8, 0x40 + mechanism),
          template(0xb6, 0x10 + mechanism),
          template(0xb6, 0x50 + mechanism),
        ]
      : role === 'signature'
        ? [template(0xb6, 0x10 + mechanism), template(0xb6, 0x50 + mechanism)]
        : role === 'ecdsa'
          ? [template(0xb6, 0x10 + mechanism)]
          : [template(0xb8, mechanism)];
  const body = templates.flat();
  const inner = [
    0x82,
    0x01,
    0x18,
    0x83,
    0x02,
    0xb0,
    keyReference,
    0x8c,
    0x05,
    0x8f,
    0x10,
    0x10,
    0x10,
    0x00,
    0xa5,
    body.length,
    ...body,
  ];
  return Uint8Array.from([0x62, inner.length, ...inner]);
}
