/**
 * `--trace`: every APDU exchanged, decoded, on stderr. The session hands us exchanges with secret
 * data already zeroed (PINs, new keys, imported keys in commands; plaintext and shared secrets in
 * responses); we print that data as `**`.
 */
import type { ApduTraceHook } from '@minidriver/spec';
import { describeCommand, describeResponse } from './apdu-format.js';

/** A trace hook writing decoded exchanges to `write` (stderr by default). */
export function createTraceHook(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): ApduTraceHook {
  return (entry) => {
    for (const line of describeCommand(entry.command, entry.redacted)) write(line);
    if (entry.response)
      for (const line of describeResponse(entry.response, entry.responseRedacted === true)) write(line);
    else write(`< failed: ${entry.error instanceof Error ? entry.error.message : String(entry.error)}`);
  };
}
