/**
 * Test support for the simulator's in-process tests: send an APDU, get data and status word.
 * Not exported from the package.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeTlv, encodeCommandApdu, findTlv } from '@minidriver/iso7816';
import type { OpenPgpSimulator } from './openpgp-simulator.js';

export interface Reply {
  data: Uint8Array;
  statusWord: number;
}

/** Sends one command; `extended` forces extended length fields. */
export async function send(
  card: OpenPgpSimulator,
  command: { cla?: number; ins: number; p1: number; p2: number; data?: Uint8Array; le?: number },
  extended = false,
): Promise<Reply> {
  const bytes = encodeCommandApdu({ cla: 0x00, ...command }, { extended });
  const response = await card.process(bytes);
  return {
    data: response.slice(0, response.length - 2),
    statusWord: (response[response.length - 2]! << 8) | response[response.length - 1]!,
  };
}

export const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
export const text = (value: string) => new TextEncoder().encode(value);
export const hexOf = (value: Uint8Array) => Buffer.from(value).toString('hex').toUpperCase();

export async function select(card: OpenPgpSimulator): Promise<Reply> {
  return send(card, { ins: 0xa4, p1: 0x04, p2: 0x00, data: bytes('D27600012401'), le: 256 });
}

export async function getData(card: OpenPgpSimulator, tag: number, extended = false): Promise<Reply> {
  return send(card, { ins: 0xca, p1: tag >> 8, p2: tag & 0xff, le: extended ? 65536 : 256 }, extended);
}

export async function putData(card: OpenPgpSimulator, tag: number, value: Uint8Array): Promise<Reply> {
  return send(card, { ins: 0xda, p1: tag >> 8, p2: tag & 0xff, data: value }, value.length > 255);
}

export async function verify(card: OpenPgpSimulator, reference: number, pin?: string): Promise<Reply> {
  return send(card, { ins: 0x20, p1: 0x00, p2: reference, ...(pin === undefined ? {} : { data: text(pin) }) });
}

/** GENERATE (P1 80) or read (P1 81) in the slot named by its CRT tag (B6, B8, A4); extended Le. */
export async function generate(card: OpenPgpSimulator, crt: number, read = false): Promise<Reply> {
  return send(card, { ins: 0x47, p1: read ? 0x81 : 0x80, p2: 0x00, data: Uint8Array.of(crt, 0x00), le: 65536 }, true);
}

/** The node public key for a 7F49 template. */
export function publicKeyFrom7F49(template: Uint8Array, curve?: 'P-256' | 'P-384' | 'Ed25519' | 'X25519'): KeyObject {
  const nodes = decodeTlv(template);
  const url = (value: Uint8Array | undefined) => Buffer.from(value ?? []).toString('base64url');
  if (curve === undefined) {
    return createPublicKey({
      key: { kty: 'RSA', n: url(findTlv(nodes, 0x7f49, 0x81)?.value), e: url(findTlv(nodes, 0x7f49, 0x82)?.value) },
      format: 'jwk',
    });
  }
  const point = findTlv(nodes, 0x7f49, 0x86)!.value;
  if (curve === 'Ed25519' || curve === 'X25519') {
    return createPublicKey({ key: { kty: 'OKP', crv: curve, x: url(point) }, format: 'jwk' });
  }
  const size = (point.length - 1) / 2;
  return createPublicKey({
    key: { kty: 'EC', crv: curve, x: url(point.subarray(1, 1 + size)), y: url(point.subarray(1 + size)) },
    format: 'jwk',
  });
}
