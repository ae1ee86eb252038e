/**
 * @module A Transport wrapper that shows every APDU to a trace hook, with PIN-carrying data redacted.
 *
 * Redacted (data bytes replaced by zeros, Lc kept, `redacted: true`): VERIFY (INS 20, and 21),
 * CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C), whatever the CLA. PIV GENERAL AUTHENTICATE of
 * the management key (87) carries a challenge/response, not a PIN, and is shown as sent.
 */
import { type ApduTraceHook, interceptTransmit, type Transport } from '../transport.js';

const SECRET_INSTRUCTIONS: ReadonlySet<number> = new Set([0x20, 0x21, 0x24, 0x2c]);

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

/** A copy of `command` safe to show: secret data zeroed. */
export function redactCommand(command: Uint8Array): { command: Uint8Array; redacted: boolean } {
  const copy = new Uint8Array(command);
  if (copy.length < 4 || !SECRET_INSTRUCTIONS.has(copy[1] as number)) return { command: copy, redacted: false };
  const field = dataFieldOf(copy);
  if (field === undefined) {
    // A malformed VERIFY still may hold a secret: keep only the header.
    return { command: copy.length > 5 ? copy.subarray(0, 5).slice() : copy, redacted: copy.length > 5 };
  }
  copy.fill(0, field.start, field.start + field.length);
  return { command: copy, redacted: true };
}

/**
 * Wraps `transport` so that `hook` sees every exchange (command redacted, response, error, duration).
 * A hook that throws never disturbs the card conversation.
 */
export function traceTransport(transport: Transport, hook: ApduTraceHook): Transport {
  const report = (entry: Parameters<ApduTraceHook>[0]): void => {
    try {
      hook(entry);
    } catch {
      // A faulty trace hook must not break the card conversation.
    }
  };
  return interceptTransmit(transport, async (command, send) => {
    const shown = redactCommand(command);
    const started = performance.now();
    try {
      const response = await send(command);
      report({ ...shown, response: new Uint8Array(response), durationMs: performance.now() - started });
      return response;
    } catch (error) {
      report({ ...shown, error, durationMs: performance.now() - started });
      throw error;
    }
  });
}
