/**
 * Runs one APDU through a SimulatedCard the way a card reader would: the command goes in as a
 * copy, a failing simulator answers SW 6F00 (no precise diagnosis) instead of crashing its host.
 */
import { copyBytes } from '@minidriver/spec';
import type { SimulatedCard } from './simulated-card.js';

/** SW 6F00: "no precise diagnosis", what a card answers when it fails internally. */
export const STATUS_NO_PRECISE_DIAGNOSIS: Uint8Array = Uint8Array.of(0x6f, 0x00);

/**
 * Gives `command` (copied) to `card` and returns a copy of its response. Anything the simulator throws,
 * and a response shorter than a status word, becomes 6F00.
 */
export async function processOnCard(card: SimulatedCard, command: Uint8Array): Promise<Uint8Array> {
  try {
    const response = await card.process(copyBytes(command));
    if (!(response instanceof Uint8Array) || response.length < 2) return copyBytes(STATUS_NO_PRECISE_DIAGNOSIS);
    return copyBytes(response);
  } catch {
    // The simulator's error message is deliberately not propagated: it could quote command data (a PIN).
    return copyBytes(STATUS_NO_PRECISE_DIAGNOSIS);
  }
}
