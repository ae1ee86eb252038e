/**
 * `minidriver info`: plugin, negotiated CARD_DATA version, card GUID, serial, capabilities, key
 * sizes, free space, cache mode, and the PINs with their retries left.
 */
import { summariseCard } from '../card/card-summary.js';
import { describePinStatus } from '../card/pin-retries.js';
import { pluginJson } from '../card/plugin-json.js';
import { renderPairs, renderTable } from '../output/table.js';
import type { Command } from './command.js';
import { withCard } from './session-helpers.js';

function keySizeText(sizes: { min: number; default: number; max: number; increment: number } | null): string {
  if (!sizes) return '-';
  return sizes.min === sizes.max
    ? `${sizes.min}`
    : `${sizes.min}..${sizes.max} step ${sizes.increment} (default ${sizes.default})`;
}

export const infoCommand: Command = {
  name: 'info',
  usage: '',
  summary: 'plugin, version, GUID, serial, capabilities, key sizes, free space, cache mode, PINs',
  examples: ['minidriver --sim piv info', 'minidriver --reader 0 info --json'],
  options: {},
  run: (context) =>
    withCard(context, async (opened) => {
      const summary = await summariseCard(opened.session);
      const { colours } = context;
      if (opened.simulated) context.print(colours.yellow('(simulated card)'));
      const space = summary.freeSpace;
      const value = (number: number | null | undefined): string =>
        number === null || number === undefined ? 'unknown' : String(number);
      context.print(
        renderPairs(
          [
            ['reader', opened.readerName],
            ['plugin', `${opened.resolution.packageName} (${opened.resolution.cardName})`],
            ['CARD_DATA version', String(summary.version)],
            ['card GUID', summary.guid ?? '-'],
            ['serial', summary.serial ?? '-'],
            ['key generation', summary.capabilities ? String(summary.capabilities.keyGeneration) : '-'],
            ['cert compression', summary.capabilities ? String(summary.capabilities.certificateCompression) : '-'],
            ...Object.entries(summary.keySizes).map(
              ([label, sizes]) => [`key sizes ${label}`, keySizeText(sizes)] as [string, string],
            ),
            [
              'free space',
              space
                ? `${value(space.bytesAvailable)} bytes, ${value(space.containersAvailable)} of ${value(space.maxContainers)} containers free`
                : '-',
            ],
            ['cache mode', summary.cacheMode],
            ['cache mode reason', `${summary.cacheModeReason.detail} (${summary.cacheModeReason.reason})`],
          ],
          colours.bold,
        ),
      );
      context.print('');
      context.print(
        renderTable(
          ['PIN', 'role', 'type', 'purpose', 'status'],
          summary.pins.map((pin) => [
            String(pin.id),
            pin.role,
            pin.type,
            pin.purpose,
            describePinStatus(
              pin.verified
                ? { state: 'verified' }
                : pin.retriesLeft === null
                  ? { state: 'unknown' }
                  : { state: 'retries', retriesLeft: pin.retriesLeft },
            ),
          ]),
          colours.bold,
        ),
      );
      return {
        simulated: opened.simulated,
        reader: opened.readerName,
        plugin: pluginJson(opened.resolution),
        ...summary,
      };
    }),
};
