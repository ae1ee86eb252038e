/**
 * A simulated card that carries none of our applications: the card an AID probe must reject.
 */
import type { SimulatedCard } from './simulated-card.js';

/** An ATR of a plain T=1 card with no historical bytes naming a known application (3B 80 80 01 01). */
const UNKNOWN_CARD_ATR = Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01);

const SW_FILE_NOT_FOUND = Uint8Array.of(0x6a, 0x82);
const SW_INS_NOT_SUPPORTED = Uint8Array.of(0x6d, 0x00);
const SW_CLA_NOT_SUPPORTED = Uint8Array.of(0x6e, 0x00);
const SW_WRONG_LENGTH = Uint8Array.of(0x67, 0x00);

/**
 * A card without any application we know: SELECT (by DF name or otherwise) answers 6A82 "file or
 * application not found", any other instruction 6D00 "instruction not supported", a malformed command
 * (shorter than 4 bytes) 6700 and the invalid class FF 6E00. Useful wherever a test needs "an unknown card".
 */
export class UnknownCard implements SimulatedCard {
  readonly name: string;
  readonly atr: Uint8Array;
  #powered = false;

  constructor(options: { name?: string; atr?: Uint8Array } = {}) {
    this.name = options.name ?? 'Unknown card';
    this.atr = (options.atr ?? UNKNOWN_CARD_ATR).slice();
  }

  /** Whether the card is powered (for tests of power handling). */
  get powered(): boolean {
    return this.#powered;
  }

  powerOn(): void {
    this.#powered = true;
  }

  powerOff(): void {
    this.#powered = false;
  }

  reset(): void {
    this.#powered = true;
  }

  process(command: Uint8Array): Uint8Array {
    if (command.length < 4) return SW_WRONG_LENGTH.slice();
    const [classByte, instruction] = command;
    if (classByte === 0xff) return SW_CLA_NOT_SUPPORTED.slice();
    if (instruction === 0xa4) return SW_FILE_NOT_FOUND.slice();
    return SW_INS_NOT_SUPPORTED.slice();
  }
}
