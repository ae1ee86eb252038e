/**
 * The one APDU redactor, used by every APDU trace (CardSession's, iso7816's channel) and by channels that
 * wipe secret command buffers.
 *
 * Always redacted, whatever the CLA (ISO 7816-4 interindustry commands): the command data of VERIFY (INS 20,
 * and 21), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C), and the response data of GET CHALLENGE
 * (84). A plugin adds the secret-bearing commands of its card as {@link SecretApdu} rules
 * (`MinidriverPlugin.secretApdus`): a new management key, an imported private key, a resetting code in the
 * command; decrypted plaintext or an ECDH secret in the response. Redacted bytes are replaced by zeros, Lc
 * and the status word kept. The GET RESPONSE (INS C0) answers that continue a secret response are secret too.
 * Command layout: ISO/IEC 7816-3 cases 3 and 4, short or extended.
 *
 * @packageDocumentation
 */
import type { SecretApdu } from './transport.js';

/** The interindustry secret-bearing commands, redacted for every card. */
export const ISO_SECRET_APDUS: readonly SecretApdu[] = Object.freeze([
  { ins: 0x20, data: true },
  { ins: 0x21, data: true },
  { ins: 0x24, data: true },
  { ins: 0x2c, data: true },
  { ins: 0x84, response: true },
]);

/** Which parts of an exchange are secret. */
export interface SecretParts {
  readonly data: boolean;
  readonly response: boolean;
}

const NOTHING_SECRET: SecretParts = Object.freeze({ data: false, response: false });

/** The secret parts of `command` under the ISO rules and `rules` (stateless: see {@link createSecretApduTracker}). */
export function secretPartsOf(command: Uint8Array, rules: readonly SecretApdu[] = []): SecretParts {
  if (!(command instanceof Uint8Array) || command.length < 4) return NOTHING_SECRET;
  const [, ins, p1, p2] = command as unknown as [number, number, number, number];
  let data = false;
  let response = false;
  for (const list of [ISO_SECRET_APDUS, Array.isArray(rules) ? rules : []]) {
    for (const rule of list) {
      if (rule.ins !== ins || (rule.p1 !== undefined && rule.p1 !== p1) || (rule.p2 !== undefined && rule.p2 !== p2))
        continue;
      data ||= rule.data === true;
      response ||= rule.response === true;
    }
  }
  return data || response ? { data, response } : NOTHING_SECRET;
}

/** Follows one conversation: a secret response continued by 61xx makes the following GET RESPONSE secret. */
export interface SecretApduTracker {
  /** The secret parts of the next command sent. */
  classify(command: Uint8Array): SecretParts;
  /** Tells the tracker the response of the command last classified. */
  settle(response: Uint8Array | undefined): void;
}

/** A {@link SecretApduTracker} under the ISO rules and `rules`. */
export function createSecretApduTracker(rules: readonly SecretApdu[] = []): SecretApduTracker {
  let continuing = false;
  let last: SecretParts = NOTHING_SECRET;
  return {
    classify(command) {
      const parts = secretPartsOf(command, rules);
      last = continuing && command.length >= 2 && command[1] === 0xc0 ? { data: parts.data, response: true } : parts;
      return last;
    },
    settle(response) {
      continuing =
        last.response && response !== undefined && response.length >= 2 && response[response.length - 2] === 0x61;
    },
  };
}

/** A copy of `response` safe to show: its data zeroed, the status word kept. */
export function redactResponse(response: Uint8Array): Uint8Array {
  const copy = new Uint8Array(response);
  if (copy.length > 2) copy.fill(0, 0, copy.length - 2);
  return copy;
}

/** Where the data field of a command APDU lies (ISO 7816-3 cases 3 and 4, short or extended). */
function dataFieldOf(command: Uint8Array): { start: number; length: number } | undefined {
  if (command.length <= 5) return undefined; // cases 1 and 2: no data
  const shortLc = command[4] as number;
  if (shortLc !== 0) {
    return 5 + shortLc <= command.length ? { start: 5, length: shortLc } : undefined;
  }
  if (command.length < 7) return undefined;
  const extendedLc = ((command[5] as number) << 8) | (command[6] as number);
  return 7 + extendedLc <= command.length ? { start: 7, length: extendedLc } : undefined;
}

/** A copy of `command` safe to show: secret data (ISO rules and `rules`) zeroed. */
export function redactCommand(
  command: Uint8Array,
  rules: readonly SecretApdu[] = [],
  parts: SecretParts = secretPartsOf(command, rules),
): { command: Uint8Array; redacted: boolean } {
  const copy = new Uint8Array(command);
  if (copy.length < 4 || !parts.data) return { command: copy, redacted: false };
  const field = dataFieldOf(copy);
  if (field === undefined) {
    // A malformed VERIFY still may hold a secret: keep only the header.
    return { command: copy.length > 5 ? copy.subarray(0, 5).slice() : copy, redacted: copy.length > 5 };
  }
  copy.fill(0, field.start, field.start + field.length);
  return { command: copy, redacted: true };
}
