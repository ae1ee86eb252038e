/**
 * `minidriver apdu <hex>...`: sends raw command APDUs in one transaction (like opensc-tool -s) and
 * prints each exchange decoded. VERIFY-class data is shown as `**`.
 */
import { fromHex, redactCommand, toHex } from '@minidriver/spec';
import { useCard } from '../card/open-card.js';
import { describeCommand, describeResponse } from '../output/apdu-format.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';

/** Parses argument `position` (1-based); a malformed one is not echoed: it may be a VERIFY with a PIN in it. */
function parseApdu(text: string, position: number): Uint8Array {
  const compact = text.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(compact) || compact.length < 8)
    throw new UsageError(`APDU argument ${position} is not an APDU (at least 4 hex bytes, whole bytes)`);
  return fromHex(compact);
}

export const apduCommand: Command = {
  name: 'apdu',
  usage: '<hex>...',
  summary: 'send raw APDUs and decode the answers',
  examples: ['minidriver --sim piv apdu 00a4040005a000000308 00fd000000   # SELECT PIV, GET VERSION'],
  options: {},
  async run(context) {
    if (context.positionals.length === 0) throw new UsageError('give at least one APDU in hex');
    const commands = context.positionals.map((text, index) => parseApdu(text, index + 1));
    const connected = await context.connect();
    const exchanges: { command: string; response: string; statusWord: string; description: string[] }[] = [];
    await useCard(connected, async () => {
      await connected.transport.beginTransaction();
      try {
        for (const command of commands) {
          const response = await connected.transport.transmit(command);
          const { command: shown, redacted } = redactCommand(command);
          const lines = [...describeCommand(shown, redacted), ...describeResponse(response)];
          for (const line of lines) context.print(line);
          exchanges.push({
            command: redacted ? `${toHex(shown.subarray(0, 5))}**` : toHex(command),
            response: toHex(response),
            statusWord: toHex(response.subarray(response.length - 2)),
            description: lines,
          });
        }
      } finally {
        await connected.transport.endTransaction('leave').catch(() => undefined);
      }
    });
    return { reader: connected.readerName, exchanges };
  },
};
