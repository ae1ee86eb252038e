/**
 * @module `minidriver pin verify|change|unblock|status [--role user|admin]`. Secrets come from a hidden
 * prompt, `--pin-stdin` (one per line: current then new; PUK then new), `--pin-env VAR`,
 * `--admin-pin-env VAR` (admin PIN, or the PUK for unblock) and `--new-pin-env VAR`; never echoed.
 */
import {
  CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
  CardProperty,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  type PinId,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
  wipe,
} from '@minidriver/core';
import { authenticateAdmin, defaultAdminKey, encryptChallenge } from '../card/admin-authentication.js';
import { summariseCard } from '../card/card-summary.js';
import type { OpenedCard } from '../card/open-card.js';
import { describePinStatus, readPinStatus } from '../card/pin-retries.js';
import { readSecretPair } from '../input/credentials.js';
import { renderTable } from '../output/table.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { type CommandContext, requirePositional, stringOption } from './context.js';
import { withCard } from './session-helpers.js';

function roleOf(context: CommandContext): 'user' | 'admin' {
  const role = stringOption(context, 'role') ?? 'user';
  if (role !== 'user' && role !== 'admin') throw new UsageError('--role must be user or admin');
  return role;
}

async function isAdminChallengeResponse(opened: OpenedCard): Promise<boolean> {
  try {
    const info = await opened.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_ADMIN);
    return info.pinType === SecretType.ChallengeResponsePinType;
  } catch {
    return true;
  }
}

async function statusLine(opened: OpenedCard, pinId: number): Promise<string> {
  return describePinStatus(await readPinStatus(opened.session, pinId));
}

async function verify(context: CommandContext, opened: OpenedCard, role: 'user' | 'admin') {
  if (role === 'admin') {
    const method = await authenticateAdmin(opened.session, context.credentials);
    context.print(`admin authenticated (${method})`);
    return { role, verified: true, method };
  }
  const pin = await context.credentials.secret('PIN', 'pin-env');
  try {
    await opened.session.authenticatePin('user', pin);
  } finally {
    wipe(pin);
  }
  context.print('PIN verified');
  return { role, verified: true };
}

async function change(context: CommandContext, opened: OpenedCard, role: 'user' | 'admin') {
  const pinId: PinId = role === 'user' ? ROLE_USER : ROLE_ADMIN;
  if (role === 'admin' && (await isAdminChallengeResponse(opened))) {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `changing the ${opened.session.pluginName} admin key from the CLI is not supported`,
    );
  }
  const [current, next] = await readSecretPair(
    context.credentials,
    [role === 'user' ? 'Current PIN' : 'Current admin PIN', role === 'user' ? 'pin-env' : 'admin-pin-env'],
    [role === 'user' ? 'New PIN' : 'New admin PIN', 'new-pin-env'],
  );
  try {
    await opened.session.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN, pinId, current, pinId, next);
  } finally {
    wipe(current, next);
  }
  context.print(`${role === 'user' ? 'PIN' : 'admin PIN'} changed`);
  return { role, changed: true };
}

async function unblock(context: CommandContext, opened: OpenedCard, role: 'user' | 'admin') {
  if (role !== 'user') throw new UsageError('only the user PIN can be unblocked (--role user)');
  const info = await opened.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER);
  let unblocker: number | undefined;
  for (let id = 0; id < 8; id++) if (info.unblockPermission & (1 << id)) unblocker ??= id;
  if (unblocker === undefined)
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this card has no way to unblock the user PIN');
  if (unblocker === ROLE_ADMIN && (await isAdminChallengeResponse(opened))) {
    // GIDS-style: the admin key answers a challenge to unblock.
    const choice = context.credentials.adminKey();
    if (!choice) throw new UsageError('unblocking needs the admin key: --admin-key-env VAR or --admin-key default');
    const key = choice.kind === 'default' ? defaultAdminKey(opened.session.pluginName) : choice.key;
    if (!key) throw new UsageError(`no default admin key for ${opened.session.pluginName}`);
    const next = await context.credentials.secret('New PIN', 'new-pin-env').catch((error: unknown) => {
      wipe(key);
      throw error;
    });
    try {
      const response = encryptChallenge(key, await opened.session.getChallenge());
      await opened.session.unblockPin('user', response, next, 0, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE);
    } finally {
      wipe(key, next);
    }
  } else {
    const unblockInfo = await opened.session
      .getProperty(CardProperty.CP_CARD_PIN_INFO, unblocker)
      .catch(() => undefined);
    const label = unblockInfo?.purpose === SecretPurpose.UnblockOnlyPin ? 'PUK' : 'Admin PIN';
    const [secret, next] = await readSecretPair(
      context.credentials,
      [label, 'admin-pin-env'],
      ['New PIN', 'new-pin-env'],
    );
    try {
      await opened.session.changeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, unblocker as PinId, secret, ROLE_USER, next);
    } finally {
      wipe(secret, next);
    }
  }
  context.print(`PIN unblocked (${await statusLine(opened, ROLE_USER)})`);
  return { role, unblocked: true };
}

async function status(context: CommandContext, opened: OpenedCard) {
  const { pins } = await summariseCard(opened.session);
  context.print(
    renderTable(
      ['PIN', 'role', 'type', 'status'],
      pins.map((pin) => [
        String(pin.id),
        pin.role,
        pin.type,
        pin.verified
          ? 'verified'
          : pin.retriesLeft === null
            ? '?'
            : describePinStatus({ state: 'retries', retriesLeft: pin.retriesLeft }),
      ]),
      context.colours.bold,
    ),
  );
  return { pins };
}

export const pinCommand: Command = {
  name: 'pin',
  usage: 'verify|change|unblock|status [--role user|admin]',
  summary: 'verify, change or unblock a PIN, or show retries left',
  examples: [
    'minidriver pin status',
    'minidriver pin change                 # current PIN once, the new PIN twice',
    'minidriver pin change --role puk',
    "printf '12345678\\n654321\\n' | minidriver pin unblock --pin-stdin",
  ],
  subcommands: ['verify', 'change', 'unblock', 'status'],
  options: {
    role: { type: 'string', placeholder: 'user|admin', description: 'which PIN (default user)' },
    'new-pin-env': {
      type: 'string',
      placeholder: '<VAR>',
      description: 'read the new PIN from environment variable VAR',
    },
  },
  async run(context) {
    const action = requirePositional(context, 0, 'verify|change|unblock|status');
    const role = roleOf(context);
    if (!['verify', 'change', 'unblock', 'status'].includes(action))
      throw new UsageError('unknown pin action (choose verify, change, unblock or status)');
    return withCard(context, async (opened) => {
      if (action === 'verify') return verify(context, opened, role);
      if (action === 'change') return change(context, opened, role);
      if (action === 'unblock') return unblock(context, opened, role);
      return status(context, opened);
    });
  },
};
