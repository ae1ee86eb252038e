/**
 * `minidriver identify [--atr <hex>]`: the parsed ATR, the plugin the loader would choose and why,
 * and the card's names in pcsc-tools' database.
 */
import { fromHex, toHex } from '@minidriver/spec';
import { createCliLoader } from '../card/cli-loader.js';
import { useCard } from '../card/open-card.js';
import { pluginJson } from '../card/plugin-json.js';
import { renderPairs } from '../output/table.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { stringOption } from './context.js';

function parseHexArgument(text: string, what: string): Uint8Array {
  const compact = text.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(compact)) throw new UsageError(`${what} must be hex bytes`);
  return fromHex(compact);
}

export const identifyCommand: Command = {
  name: 'identify',
  usage: '[--atr <hex>]',
  summary: 'parse the ATR and show which plugin would be chosen, and why',
  examples: [
    'minidriver identify',
    'minidriver identify --atr "3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40"',
  ],
  options: {
    atr: { type: 'string', placeholder: '<hex>', description: 'identify this ATR instead of the card in the reader' },
  },
  async run(context) {
    const atrText = stringOption(context, 'atr');
    let atr: Uint8Array;
    if (atrText !== undefined) atr = parseHexArgument(atrText, '--atr');
    else {
      atr = await useCard(await context.connect(), async (connected) => connected.transport.atr);
    }
    const identification = await (await createCliLoader(context.plugins)).identify(atr);
    const parsed = identification.atr;
    const resolution = identification.resolution;
    context.print(
      renderPairs(
        [
          ['ATR', toHex(atr, ' ')],
          ['convention', parsed.convention],
          [
            'TCK',
            parsed.tckValid === undefined ? 'none needed' : parsed.tckValid ? 'valid' : context.colours.red('invalid'),
          ],
          ['protocols', parsed.protocols.map((protocol) => `T=${protocol}`).join(', ')],
          ['historical bytes', toHex(parsed.historicalBytes, ' ') || '-'],
          [
            'plugin',
            resolution
              ? `${resolution.packageName} (${resolution.pluginName}, card "${resolution.cardName}")`
              : context.colours.yellow('none'),
          ],
          ['why', resolution ? resolution.reason : (identification.unresolvedReason ?? '-')],
          [
            'database names',
            identification.names.length
              ? identification.names.join('; ')
              : (identification.databaseProblem ?? 'not in the database'),
          ],
        ],
        context.colours.bold,
      ),
    );
    return {
      atr: toHex(atr),
      parsed: {
        convention: parsed.convention,
        tckValid: parsed.tckValid ?? null,
        protocols: parsed.protocols,
        historicalBytes: toHex(parsed.historicalBytes),
      },
      plugin: resolution ? pluginJson(resolution) : null,
      unresolvedReason: identification.unresolvedReason ?? null,
      names: identification.names,
    };
  },
};
