/**
 * @packageDocumentation
 * The minidriver side of GIDS admin-key mutual authentication (docs/spec/gids.md §4.4). The minidriver never
 * holds the admin key: CardGetChallenge(Ex) returns the 40-byte block R2 ‖ R1 ‖ Z1 ‖ 80 (R2 the card's
 * challenge, R1 and Z1 random from the host), and the caller's response — the block encrypted with 3DES-CBC,
 * zero IV, under the admin key (docs/spec/minidriver.md §6.6: multi-block challenges are CBC) — is exactly the
 * cryptogram the card expects. The card's own cryptogram cannot be checked without the key; the card has
 * authenticated the caller when it accepts.
 */
import { randomBytes } from 'node:crypto';
import { ScardError } from '@minidriver/spec';

/** Length of the challenge CardGetChallenge returns (five 3DES blocks). */
export const MUTUAL_CHALLENGE_LENGTH = 40;

/** A mutual authentication in progress: what the card sent and what the caller must encrypt. */
export interface PendingMutualAuthentication {
  /** R2 ‖ R1 ‖ Z1 ‖ 80, handed to the caller. */
  readonly challenge: Uint8Array;
}

/** R1, the host challenge sent in step 1 (16 random bytes). */
export function hostChallenge(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

/** The challenge block for the caller from the card's answer `7C 12 81 10 R2` and the host challenge R1. */
export function mutualChallenge(cardAnswer: Uint8Array, r1: Uint8Array): Uint8Array {
  if (
    cardAnswer.length !== 20 ||
    cardAnswer[0] !== 0x7c ||
    cardAnswer[1] !== 0x12 ||
    cardAnswer[2] !== 0x81 ||
    cardAnswer[3] !== 0x10
  ) {
    throw new ScardError(
      'SCARD_E_COMM_DATA_LOST',
      'the card did not answer the mutual authentication with a 16-byte challenge',
    );
  }
  const block = new Uint8Array(MUTUAL_CHALLENGE_LENGTH);
  block.set(cardAnswer.subarray(4), 0);
  block.set(r1, 16);
  block.set(randomBytes(7), 32);
  block[39] = 0x80;
  return block;
}

/** Checks the shape of the card's final answer `7C 2A 82 28 <40 bytes>`. */
export function checkCardCryptogram(answer: Uint8Array): void {
  if (answer.length !== 44 || answer[0] !== 0x7c || answer[1] !== 0x2a || answer[2] !== 0x82 || answer[3] !== 0x28) {
    throw new ScardError('SCARD_E_COMM_DATA_LOST', 'the card answered the admin authentication with no cryptogram');
  }
}
