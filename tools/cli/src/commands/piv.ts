/**
 * @packageDocumentation
 * `minidriver piv info|reset|set-management-key|set-retries|attest`: management of a YubiKey-class PIV
 * card beyond the minidriver contract. The card-side code is the PIV package's (`PivManagement`), run
 * through `CardSession.manage`; the contract is used where it has the operation (the admin and PIN
 * authentication, a management key change within its algorithm).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import type { PivManagement } from '@minidriver/card-piv/management';
import { toPem } from '@minidriver/core';
import { fromHex, PIN_CHANGE_FLAG_CHANGEPIN, ROLE_ADMIN, ScardError, wipe } from '@minidriver/spec';
import { authenticateAdmin, defaultAdminKey, encryptChallenge } from '../card/admin-authentication.js';
import { checkContainerText, containerLabel, pivModule, resolveContainer } from '../card/card-management.js';
import type { OpenedCard } from '../card/open-card.js';
import { cardLabel } from '../card/pin-prompts.js';
import { confirmDestruction, FORCE_OPTION } from '../input/confirm.js';
import { promptHidden } from '../input/hidden-prompt.js';
import { outputName, STDIO, writeOutputFile } from '../input/local-files.js';
import { renderPairs, renderTable } from '../output/table.js';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { type CommandContext, requirePositional, stringOption } from './context.js';
import { authenticateUser, withCard } from './session-helpers.js';

const ACTIONS = ['info', 'reset', 'set-management-key', 'set-retries', 'attest'] as const;
const ALGORITHMS = ['3des', 'aes128', 'aes192', 'aes256'] as const;

async function manage<T>(opened: OpenedCard, work: (management: PivManagement) => Promise<T>): Promise<T> {
  const { PivManagement } = await pivModule(opened);
  return opened.session.manage((access) => work(PivManagement.of(access)));
}

async function info(context: CommandContext, opened: OpenedCard) {
  const managementKey = await manage(opened, (m) => m.managementKeyInfo());
  const pin = await manage(opened, (m) => m.retries('pin'));
  const puk = await manage(opened, (m) => m.retries('puk'));
  const slots = [];
  for (const name of ['9a', '9c', '9d', '9e']) {
    const index = await resolveContainer(opened, name);
    const slot = await manage(opened, (m) => m.slotKey(index)).catch((error: unknown) => {
      if (ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE')) return undefined;
      throw error;
    });
    if (slot) slots.push(slot);
  }
  const counter = (value: { total: number; left: number } | undefined) =>
    value === undefined ? '?' : `${value.left} of ${value.total} tries left`;
  context.print(
    renderPairs(
      [
        ['card', cardLabel(opened)],
        [
          'management key',
          `${managementKey.algorithm}${managementKey.isDefault ? ' (the factory default: change it)' : ''}${managementKey.touchRequired ? ', touch required' : ''}`,
        ],
        ['PIN', counter(pin)],
        ['PUK', counter(puk)],
      ],
      context.colours.bold,
    ),
  );
  if (slots.length) {
    context.print('');
    context.print(
      renderTable(
        ['slot', 'key', 'PIN policy', 'touch policy', 'origin'],
        slots.map((slot) => [slot.slot, slot.algorithm, slot.pinPolicy, slot.touchPolicy, slot.origin]),
        context.colours.bold,
      ),
    );
  }
  return { managementKey, pin: pin ?? null, puk: puk ?? null, slots };
}

async function reset(context: CommandContext, opened: OpenedCard) {
  await confirmDestruction(
    context,
    `every PIV key and certificate on ${cardLabel(opened)}; the PIN becomes 123456, the PUK 12345678 and the management key the factory default`,
    'reset',
  );
  await manage(opened, (m) => m.reset());
  context.print('PIV application reset: PIN 123456, PUK 12345678, default 3DES management key (change them)');
  return { reset: true };
}

/** The new management key: hex from --new-key-env VAR, or typed twice (hidden) on a terminal. */
async function newManagementKey(context: CommandContext): Promise<Uint8Array> {
  const variable = stringOption(context, 'new-key-env');
  let text: string;
  if (variable !== undefined) {
    const value = process.env[variable];
    if (value === undefined || value === '')
      throw new UsageError('--new-key-env: the environment variable it names is not set');
    text = value;
  } else if (context.options['generate'] === true) {
    throw new UsageError('internal: --generate is handled by the caller');
  } else if (process.stdin.isTTY) {
    text = await promptHidden('new management key (hex): ');
    if ((await promptHidden('new management key again: ')) !== text) {
      throw new UsageError('the two management keys typed differ: nothing was changed');
    }
  } else {
    throw new UsageError(
      'the new management key is needed: give --new-key-env VAR (hex) or --generate, or run on a terminal',
    );
  }
  if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw new UsageError('the new management key must be hex');
  return fromHex(text);
}

async function setManagementKey(context: CommandContext, opened: OpenedCard) {
  const algorithm = stringOption(context, 'algorithm') ?? 'aes192';
  if (!(ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new UsageError(`--algorithm must be ${ALGORITHMS.join(', ')}${didYouMean(algorithm, ALGORITHMS)}`);
  }
  const touch = context.options['touch'] === true;
  const lengths: Record<string, number> = { '3des': 24, aes128: 16, aes192: 24, aes256: 32 };
  const generated = context.options['generate'] === true;
  const key = generated ? new Uint8Array(randomBytes(lengths[algorithm] as number)) : await newManagementKey(context);
  try {
    if (key.length !== lengths[algorithm]) {
      throw new UsageError(
        `a ${algorithm} management key is ${lengths[algorithm]} bytes (${(lengths[algorithm] as number) * 2} hex digits)`,
      );
    }
    const current = await manage(opened, (m) => m.managementKeyInfo());
    let via: 'contract' | 'management';
    if (current.algorithm === algorithm && !touch) {
      // Same algorithm: the contract has it (changeAuthenticatorEx of ROLE_ADMIN with the challenge answered).
      const choice = context.credentials.adminKey();
      if (choice === undefined)
        throw new UsageError('the current management key is needed: --admin-key-env VAR or --admin-key default');
      const currentKey = choice.kind === 'default' ? defaultAdminKey(opened.session.pluginName) : choice.key;
      if (currentKey === undefined) throw new UsageError('no default management key known for this card');
      try {
        const response = encryptChallenge(currentKey, await opened.session.getChallengeEx(ROLE_ADMIN));
        await opened.session.changeAuthenticatorEx(
          PIN_CHANGE_FLAG_CHANGEPIN,
          ROLE_ADMIN,
          response,
          ROLE_ADMIN,
          key.slice(),
        );
      } finally {
        wipe(currentKey);
      }
      via = 'contract';
    } else {
      await authenticateAdmin(opened.session, context.credentials, cardLabel(opened));
      await manage(opened, (m) =>
        m.setManagementKey(algorithm as (typeof ALGORITHMS)[number], key, { requireTouch: touch }),
      );
      via = 'management';
    }
    if (generated) {
      // The user asked the card's new key to be made here: it is shown once, on stderr, never in JSON.
      process.stderr.write(
        `new management key (keep it safe; it is not shown again): ${Buffer.from(key).toString('hex')}\n`,
      );
    }
    context.print(`management key set: ${algorithm}${touch ? ', touch required' : ''}`);
    return { algorithm, touchRequired: touch, via };
  } finally {
    wipe(key);
  }
}

async function setRetries(context: CommandContext, opened: OpenedCard) {
  const numbers = [context.positionals[1], context.positionals[2]].map((text) =>
    text !== undefined && /^\d{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 255
      ? Number(text)
      : Number.NaN,
  );
  const [pinRetries, pukRetries] = numbers as [number, number];
  if (Number.isNaN(pinRetries) || Number.isNaN(pukRetries)) {
    throw new UsageError('piv set-retries takes two numbers 1..255: the PIN tries, then the PUK tries');
  }
  await confirmDestruction(context, `the current PIN and PUK of ${cardLabel(opened)}: they become 123456 and 12345678`);
  await authenticateAdmin(opened.session, context.credentials, cardLabel(opened));
  await authenticateUser(context, opened);
  await manage(opened, (m) => m.setPinRetries(pinRetries, pukRetries));
  context.print(
    `PIN allows ${pinRetries} tries, PUK ${pukRetries}; PIN is 123456 and PUK 12345678 again (change them)`,
  );
  return { pinRetries, pukRetries };
}

async function attest(context: CommandContext, opened: OpenedCard) {
  const text = checkContainerText(requirePositional(context, 1, '<slot>'), 'the slot');
  const index = await resolveContainer(opened, text);
  const der = await manage(opened, (m) => m.attest(index));
  const certificate = new X509Certificate(der);
  const pem = toPem(der, 'CERTIFICATE');
  const out = stringOption(context, 'out');
  if (out !== undefined) await writeOutputFile(out, pem);
  if (out === undefined) context.print(pem.trimEnd());
  else if (out !== STDIO)
    context.print(`attestation of container ${await containerLabel(opened, index)} written to ${outputName(out)}`);
  return {
    container: index,
    subject: certificate.subject,
    issuer: certificate.issuer,
    pem,
    ...(out === undefined ? {} : { out }),
  };
}

export const pivCommand: Command = {
  name: 'piv',
  usage: 'info|reset|set-management-key|set-retries <pin> <puk>|attest <slot> [options]',
  summary: 'manage a YubiKey-class PIV card: reset, management key, retry limits, attestation',
  subcommands: ACTIONS,
  examples: [
    'minidriver piv info',
    'minidriver piv reset                                   # asks you to type "reset"',
    'NEW=$(openssl rand -hex 24) minidriver piv set-management-key --algorithm aes192 --new-key-env NEW --admin-key default',
    'minidriver piv set-retries 5 10 --admin-key-env MGM --pin-env PIN --force',
    'minidriver piv attest 9a --out attestation.pem',
  ],
  options: {
    algorithm: {
      type: 'string',
      placeholder: '3des|aes128|aes192|aes256',
      description: 'set-management-key: the new key algorithm (default aes192)',
    },
    'new-key-env': {
      type: 'string',
      placeholder: '<VAR>',
      description: 'set-management-key: the new key (hex) from VAR',
    },
    generate: { type: 'boolean', description: 'set-management-key: make a random key and show it once on stderr' },
    touch: { type: 'boolean', description: 'set-management-key: require a touch to use the key' },
    out: { type: 'string', placeholder: '<file>', description: 'attest: write the PEM here (- for stdout)' },
    ...FORCE_OPTION,
  },
  async run(context) {
    const action = requirePositional(context, 0, ACTIONS.join('|'));
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown piv action${didYouMean(action, ACTIONS)} (choose ${ACTIONS.join(', ')})`);
    }
    return withCard(context, async (opened) => {
      await pivModule(opened);
      if (action === 'info') return info(context, opened);
      if (action === 'reset') return reset(context, opened);
      if (action === 'set-management-key') return setManagementKey(context, opened);
      if (action === 'set-retries') return setRetries(context, opened);
      return attest(context, opened);
    });
  },
};
