/**
 * Test helpers for the PIV simulator tests: send APDUs in hex, follow 61xx, chain long commands,
 * authenticate the management key as yubico-piv-tool does. Test-only (not exported from index.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { encodeCommandApdu, parseResponseApdu } from '@minidriver/iso7816';
import type { PivSimulator } from './piv-simulator.js';

/** A response split into data and status word. */
export interface TestResponse {
  readonly data: Uint8Array;
  readonly statusWord: number;
}

/** Hex (spaces allowed) to bytes. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** Bytes to lower-case hex. */
export function toHexString(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Sends raw APDU bytes once. */
export function transmit(card: PivSimulator, apdu: Uint8Array | string): TestResponse {
  const bytes = typeof apdu === 'string' ? hex(apdu) : apdu;
  return parseResponseApdu(card.process(bytes));
}

/**
 * Sends a command the way a PC/SC client does: data split into 255-byte chained blocks, then GET RESPONSE
 * until the response is complete.
 */
export function exchange(
  card: PivSimulator,
  ins: number,
  p1: number,
  p2: number,
  data: Uint8Array = new Uint8Array(0),
): TestResponse {
  let offset = 0;
  while (data.length - offset > 255) {
    const block = data.subarray(offset, offset + 255);
    const reply = transmit(card, encodeCommandApdu({ cla: 0x10, ins, p1, p2, data: block }));
    if (reply.statusWord !== 0x9000) return reply;
    offset += 255;
  }
  const last = data.subarray(offset);
  let reply = transmit(
    card,
    encodeCommandApdu({ cla: 0x00, ins, p1, p2, data: last.length > 0 ? last : undefined, le: 256 }),
  );
  const parts = [reply.data];
  while (reply.statusWord >> 8 === 0x61) {
    reply = transmit(
      card,
      encodeCommandApdu({ cla: 0x00, ins: 0xc0, p1: 0, p2: 0, le: reply.statusWord & 0xff || 256 }),
    );
    parts.push(reply.data);
  }
  return { data: new Uint8Array(Buffer.concat(parts)), statusWord: reply.statusWord };
}

/** The ECB cipher name for a management key length and algorithm id. */
function cipherName(algorithmId: number): string {
  switch (algorithmId) {
    case 0x03:
      return 'des-ede3-ecb';
    case 0x08:
      return 'aes-128-ecb';
    case 0x0a:
      return 'aes-192-ecb';
    default:
      return 'aes-256-ecb';
  }
}

function ecb(encrypt: boolean, algorithmId: number, key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = encrypt
    ? createCipheriv(cipherName(algorithmId), key, null)
    : createDecipheriv(cipherName(algorithmId), key, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

/** Mutual authentication with the 9B key (yubico-piv-tool's flow); returns the final status word. */
export function authenticateManagementKey(card: PivSimulator, algorithmId: number, key: Uint8Array): number {
  const blockLength = algorithmId === 0x03 ? 8 : 16;
  const first = exchange(card, 0x87, algorithmId, 0x9b, hex('7c028000'));
  if (first.statusWord !== 0x9000) return first.statusWord;
  const witness = first.data.subarray(4, 4 + blockLength);
  const decrypted = ecb(false, algorithmId, key, witness);
  const challenge = new Uint8Array(randomBytes(blockLength));
  const body = Buffer.concat([Buffer.of(0x80, blockLength), decrypted, Buffer.of(0x81, blockLength), challenge]);
  const second = exchange(
    card,
    0x87,
    algorithmId,
    0x9b,
    new Uint8Array(Buffer.concat([Buffer.of(0x7c, body.length), body])),
  );
  if (second.statusWord !== 0x9000) return second.statusWord;
  const expected = ecb(true, algorithmId, key, challenge);
  if (
    toHexString(second.data) !==
    toHexString(new Uint8Array(Buffer.concat([Buffer.of(0x7c, blockLength + 2, 0x82, blockLength), expected])))
  ) {
    throw new Error('card proved the wrong management key');
  }
  return second.statusWord;
}

/** Encrypts a block with a management key (for the external-authenticate test). */
export function encryptManagementBlock(algorithmId: number, key: Uint8Array, block: Uint8Array): Uint8Array {
  return ecb(true, algorithmId, key, block);
}

/** VERIFY PIN (80) with FF padding. */
export function verifyPin(card: PivSimulator, pin: string): number {
  return exchange(card, 0x20, 0x00, 0x80, padded(pin)).statusWord;
}

/** A PIN/PUK padded with FF to 8 bytes. */
export function padded(text: string): Uint8Array {
  const block = new Uint8Array(8).fill(0xff);
  block.set(Buffer.from(text, 'latin1'));
  return block;
}
