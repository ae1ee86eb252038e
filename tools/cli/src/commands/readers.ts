/**
 * `minidriver readers`: PC/SC readers, whether a card is in each, and its ATR.
 */
import { toHex } from '@minidriver/spec';
import { explainPcscFailure } from '../card/pcsc-failure.js';
import { listReaderStates, type ReaderState } from '../card/readers.js';
import { createSimulator } from '../card/simulators.js';
import { renderTable } from '../output/table.js';
import type { Command } from './command.js';
import { stringOption } from './context.js';

export const readersCommand: Command = {
  name: 'readers',
  usage: '',
  summary: 'list readers, card presence and ATR',
  examples: ['minidriver readers', 'minidriver readers --json'],
  options: {},
  async run(context) {
    let readers: ReaderState[];
    const sim = stringOption(context, 'sim');
    if (sim !== undefined) {
      const card = await createSimulator(sim, {}, context.plugins);
      readers = [{ index: 0, name: `Simulated ${card.name} (built-in)`, cardPresent: true, atr: toHex(card.atr, ' ') }];
    } else {
      try {
        const { PcscContext } = await import('@minidriver/pcsc');
        const pcsc = await PcscContext.establish();
        try {
          readers = await listReaderStates(pcsc);
        } finally {
          await pcsc.release().catch(() => undefined);
        }
      } catch (error) {
        throw explainPcscFailure(error);
      }
    }
    if (readers.length === 0) context.print('no readers');
    else {
      context.print(
        renderTable(
          ['#', 'reader', 'card', 'ATR'],
          readers.map((reader) => [
            String(reader.index),
            reader.name,
            reader.cardPresent ? context.colours.green('present') : context.colours.dim('empty'),
            reader.atr,
          ]),
          context.colours.bold,
        ),
      );
    }
    return { readers };
  },
};
