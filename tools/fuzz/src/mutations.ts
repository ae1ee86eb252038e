/**
 * What a hostile card answers: the real response mutated in one of the ways of {@link MUTATIONS}. Loops
 * (61xx, 6Cxx) take over the next answers too, whatever the command, so the host's GET RESPONSE and re-issue
 * logic is driven as far as it lets itself be.
 *
 * @packageDocumentation
 */
import type { Random } from './random.js';

/** The kinds of mutation, in the order of their counters. */
export const MUTATIONS = [
  'bit-flip',
  'truncate',
  'extend',
  'random-sw',
  'bad-tlv-length',
  'loop-61xx',
  'loop-6cxx',
  'empty',
  'random-answer',
] as const;

/** One kind of mutation. */
export type Mutation = (typeof MUTATIONS)[number];

/** Mutates card responses at a given rate; counts what it did. */
export interface ResponseMutator {
  /** The response the host gets instead of `response` (often `response` itself). */
  mutate(response: Uint8Array): Uint8Array;
  /** How many responses were mutated, by kind (a loop counts each answer it replaced). */
  readonly counts: Readonly<Record<Mutation, number>>;
  /** Forgets any loop in progress (between flows). */
  reset(): void;
}

const STATUS_WORDS = [
  0x9000, 0x6100, 0x6282, 0x6300, 0x63c0, 0x63c2, 0x6581, 0x6700, 0x6982, 0x6983, 0x6984, 0x6985, 0x6a80, 0x6a82,
  0x6a84, 0x6a86, 0x6a88, 0x6b00, 0x6c00, 0x6d00, 0x6e00, 0x6f00,
];
const LENGTH_BYTES = [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xff, 0x7f, 0x00];

/** A mutator that changes each response with probability `rate`. */
export function createResponseMutator(random: Random, rate: number): ResponseMutator {
  const counts = Object.fromEntries(MUTATIONS.map((kind) => [kind, 0])) as Record<Mutation, number>;
  let loop: { kind: 'loop-61xx' | 'loop-6cxx'; remaining: number; sw2: number } | undefined;
  const data = (response: Uint8Array) => response.subarray(0, Math.max(0, response.length - 2));
  const sw = (response: Uint8Array) => response.subarray(Math.max(0, response.length - 2));
  const join = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  };
  const apply = (kind: Mutation, response: Uint8Array): Uint8Array => {
    switch (kind) {
      case 'bit-flip': {
        const copy = new Uint8Array(response);
        if (copy.length === 0) return copy;
        const flips = 1 + random.below(3);
        for (let index = 0; index < flips; index++) {
          const position = random.below(copy.length);
          copy[position] = (copy[position] as number) ^ (1 << random.below(8));
        }
        return copy;
      }
      case 'truncate':
        return response.slice(0, random.below(response.length + 1));
      case 'extend': {
        const extra = random.bytes(1 + random.below(random.chance(0.1) ? 4096 : 64));
        return join(data(response), extra, sw(response));
      }
      case 'random-sw': {
        const word = random.chance(0.5)
          ? (STATUS_WORDS[random.below(STATUS_WORDS.length)] as number)
          : random.below(0x10000);
        const low = (word & 0xff) === 0 && random.chance(0.5) ? random.below(256) : word & 0xff;
        return join(data(response), Uint8Array.of(word >> 8, low));
      }
      case 'bad-tlv-length': {
        const copy = new Uint8Array(response);
        const body = Math.max(0, copy.length - 2);
        if (body < 2) return apply('random-sw', response);
        // A length byte sits right after a tag, near the start of a template: corrupt one there.
        const position = 1 + random.below(Math.min(body - 1, 8));
        copy[position] = LENGTH_BYTES[random.below(LENGTH_BYTES.length)] as number;
        return copy;
      }
      case 'loop-61xx':
      case 'loop-6cxx':
        loop = { kind, remaining: 1 + random.below(random.chance(0.03) ? 1200 : 8), sw2: random.below(256) };
        return loopAnswer();
      case 'empty':
        return new Uint8Array(0);
      case 'random-answer':
        return random.bytes(random.below(300));
    }
  };
  const loopAnswer = (): Uint8Array => {
    if (!loop) throw new Error('no loop');
    loop.remaining--;
    counts[loop.kind]++;
    const answer =
      loop.kind === 'loop-61xx'
        ? join(random.bytes(random.chance(0.5) ? 0 : random.below(256)), Uint8Array.of(0x61, loop.sw2))
        : Uint8Array.of(0x6c, loop.sw2);
    if (loop.remaining <= 0) loop = undefined;
    return answer;
  };
  return {
    counts,
    reset: () => {
      loop = undefined;
    },
    mutate(response) {
      if (loop) return loopAnswer();
      if (!random.chance(rate)) return response;
      const kind = MUTATIONS[random.below(MUTATIONS.length)] as Mutation;
      if (kind === 'loop-61xx' || kind === 'loop-6cxx') return apply(kind, response);
      counts[kind]++;
      return apply(kind, response);
    },
  };
}
