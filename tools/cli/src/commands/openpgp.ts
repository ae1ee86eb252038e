/**
 * @packageDocumentation
 * `minidriver openpgp info|reset|cardholder|keys`: management of an OpenPGP card beyond the minidriver
 * contract — factory reset, cardholder data, the key slots' attributes. The card-side code is the OpenPGP
 * package's (`OpenPgpManagement`), run through `CardSession.manage`. The Resetting Code is set through the
 * contract: `minidriver pin change --role puk` (it asks the admin PIN).
 */
import type { CardholderData, OpenPgpManagement } from '@minidriver/card-openpgp/management';
import { openPgpModule } from '../card/card-management.js';
import type { OpenedCard } from '../card/open-card.js';
import { cardLabel } from '../card/pin-prompts.js';
import { confirmDestruction, FORCE_OPTION } from '../input/confirm.js';
import { renderPairs, renderTable } from '../output/table.js';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { type CommandContext, requirePositional, stringOption } from './context.js';
import { withCard, withRole } from './session-helpers.js';

const ACTIONS = ['info', 'reset', 'cardholder', 'keys'] as const;
const SEXES = ['male', 'female', 'unspecified'] as const;

async function manage<T>(opened: OpenedCard, work: (management: OpenPgpManagement) => Promise<T>): Promise<T> {
  const { OpenPgpManagement: Management } = await openPgpModule(opened);
  return opened.session.manage((access) => work(Management.of(access)));
}

function printCardholder(context: CommandContext, data: CardholderData): void {
  context.print(
    renderPairs(
      [
        ['name', data.name || '-'],
        ['language', data.language || '-'],
        ['sex', data.sex],
        ['URL', data.url || '-'],
        ['login', data.login || '-'],
      ],
      context.colours.bold,
    ),
  );
}

async function keys(context: CommandContext, opened: OpenedCard) {
  const slots = await manage(opened, (m) => m.keys());
  context.print(
    renderTable(
      ['slot', 'algorithm', 'status', 'created', 'fingerprint'],
      slots.map((slot) => [
        slot.slot,
        slot.algorithm,
        slot.status,
        slot.created?.slice(0, 10) ?? '-',
        slot.fingerprint ?? '-',
      ]),
      context.colours.bold,
    ),
  );
  return slots;
}

async function cardholder(context: CommandContext, opened: OpenedCard) {
  const change: { -readonly [K in keyof CardholderData]?: CardholderData[K] } = {};
  for (const key of ['name', 'language', 'url', 'login'] as const) {
    const value = stringOption(context, key);
    if (value !== undefined) change[key] = value;
  }
  const sex = stringOption(context, 'sex');
  if (sex !== undefined) {
    if (!(SEXES as readonly string[]).includes(sex))
      throw new UsageError(`--sex must be ${SEXES.join(', ')}${didYouMean(sex, SEXES)}`);
    change.sex = sex as CardholderData['sex'];
  }
  if (Object.keys(change).length > 0) {
    await withRole(context, opened, 'admin', () => manage(opened, (m) => m.setCardholder(change)));
  }
  const data = await manage(opened, (m) => m.cardholder());
  printCardholder(context, data);
  return { ...data, changed: Object.keys(change) };
}

export const openpgpCommand: Command = {
  name: 'openpgp',
  usage: 'info|reset|cardholder [--name N] [--language L] [--sex S] [--url U] [--login L]|keys',
  summary: 'manage an OpenPGP card: factory reset, cardholder data, key attributes',
  subcommands: ACTIONS,
  examples: [
    'minidriver --sim openpgp openpgp info',
    'minidriver openpgp cardholder --name "Doe<<Jane" --language en --sex female   # asks the admin PIN',
    'minidriver openpgp keys',
    'minidriver openpgp reset                  # asks you to type "reset"',
    'minidriver pin change --role puk          # sets the Resetting Code (asks the admin PIN)',
  ],
  options: {
    name: { type: 'string', placeholder: '<Surname<<Given>', description: 'cardholder: the name (5B)' },
    language: { type: 'string', placeholder: '<codes>', description: 'cardholder: languages, e.g. en or deen (5F2D)' },
    sex: { type: 'string', placeholder: 'male|female|unspecified', description: 'cardholder: sex (5F35)' },
    url: { type: 'string', placeholder: '<url>', description: 'cardholder: URL of the public key (5F50)' },
    login: { type: 'string', placeholder: '<login>', description: 'cardholder: login data (5E)' },
    ...FORCE_OPTION,
  },
  async run(context) {
    const action = requirePositional(context, 0, ACTIONS.join('|'));
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown openpgp action${didYouMean(action, ACTIONS)} (choose ${ACTIONS.join(', ')})`);
    }
    return withCard(context, async (opened) => {
      await openPgpModule(opened);
      if (action === 'keys') return { keys: await keys(context, opened) };
      if (action === 'cardholder') return cardholder(context, opened);
      if (action === 'reset') {
        await confirmDestruction(
          context,
          `every OpenPGP key, certificate and the cardholder data on ${cardLabel(opened)}; PW1 becomes 123456 and PW3 12345678`,
          'reset',
        );
        await manage(opened, (m) => m.reset());
        context.print('OpenPGP application reset: PW1 123456, PW3 12345678, no keys (change the PINs)');
        return { reset: true };
      }
      const data = await manage(opened, (m) => m.cardholder());
      printCardholder(context, data);
      context.print('');
      const slots = await keys(context, opened);
      return { cardholder: data, keys: slots };
    });
  },
};
