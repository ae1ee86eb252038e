/**
 * The card-independent halves of CardRSADecrypt (docs/spec/minidriver.md §5.6.2, §8.1): the caller's
 * little-endian ciphertext turned into the big-endian block a card deciphers, and the card's raw answer
 * turned into the little-endian answer (the whole block for padding `none`, else the message
 * the session's unpadding leaves). Every plugin that deciphers raw on the card does both the same way.
 *
 * @packageDocumentation
 */
import { type DecryptPadding, reverseBytes, ScardError, wipe } from '@minidriver/spec';
import { cardRsaBlock } from './card-answers.js';

/**
 * The big-endian ciphertext for the card from the caller's little-endian `data`, which must be exactly
 * `modulusBytes` long: shorter → SCARD_E_INSUFFICIENT_BUFFER, longer → SCARD_E_INVALID_PARAMETER.
 */
export function rsaCiphertextForCard(data: Uint8Array, modulusBytes: number): Uint8Array {
  if (data.length < modulusBytes) {
    throw new ScardError('SCARD_E_INSUFFICIENT_BUFFER', `the ciphertext must be ${modulusBytes} bytes`);
  }
  if (data.length > modulusBytes) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `the ciphertext must be ${modulusBytes} bytes`);
  }
  return reverseBytes(data);
}

/**
 * CardRSADecrypt's answer from what the card answered to a raw decipherment (big-endian, at most
 * `modulusBytes` long and left-padded to it; longer → SCARD_E_UNEXPECTED): the block itself for padding
 * `none`, else the message `unpad` (the session's pfnCspUnpadData) leaves, both little-endian. The card's
 * answer, the block and the intermediate message are wiped.
 */
export function rsaDecryptAnswer(
  answer: Uint8Array,
  modulusBytes: number,
  padding: DecryptPadding,
  unpad: (block: Uint8Array, padding: DecryptPadding) => Uint8Array,
): Uint8Array {
  let block: Uint8Array;
  try {
    block = cardRsaBlock(answer, modulusBytes, 'decrypted block');
  } finally {
    wipe(answer);
  }
  try {
    if (padding.type === 'none') return reverseBytes(block);
    const message = unpad(block, padding);
    try {
      return reverseBytes(message);
    } finally {
      wipe(message);
    }
  } finally {
    wipe(block);
  }
}
