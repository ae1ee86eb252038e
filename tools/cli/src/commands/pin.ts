/**
 * @packageDocumentation
 * `minidriver pin verify|change|unblock|status [--role user|admin|puk]`. Each prompt names the card, the
 * PIN and its tries left; a new PIN is asked twice on a terminal. Secrets also come from `--pin-stdin`
 * (one per line: current then new; PUK then new), `--pin-env VAR`, `--admin-pin-env VAR` (admin PIN, or
 * the PUK) and `--new-pin-env VAR`; never echoed. `--role puk` is the card's unblock PIN: the PIV PUK, the
 * OpenPGP Resetting Code. Everything goes through the minidriver contract (changeAuthenticatorEx).
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
} from '@minidriver/spec';
import { authenticateAdmin, defaultAdminKey, encryptChallenge } from '../card/admin-authentication.js';
import { summariseCard } from '../card/card-summary.js';
import type { OpenedCard } from '../card/open-card.js';
import { askCardSecret, cardLabel } from '../card/pin-prompts.js';
import { describePinStatus, readPinStatus, readRetriesLeft } from '../card/pin-retries.js';
import type { SecretEnvOption } from '../input/credentials.js';
import { renderTable } from '../output/table.js';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { type CommandContext, requirePositional, stringOption } from './context.js';
import { withCard } from './session-helpers.js';

const ROLES = ['user', 'admin', 'puk'] as const;
type Role = (typeof ROLES)[number];
const ACTIONS = ['verify', 'change', 'unblock', 'status'] as const;

function roleOf(context: CommandContext): Role {
  const role = stringOption(context, 'role') ?? 'user';
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be user, admin or puk${didYouMean(role, ROLES)}`);
  }
  return role as Role;
}

async function pinInfo(opened: OpenedCard, pinId: number) {
  return opened.session.getProperty(CardProperty.CP_CARD_PIN_INFO, pinId).catch(() => undefined);
}

async function isAdminChallengeResponse(opened: OpenedCard): Promise<boolean> {
  const info = await pinInfo(opened, ROLE_ADMIN);
  return info === undefined || info.pinType === SecretType.ChallengeResponsePinType;
}

/** The card's unblock-only PIN (PIV PUK, OpenPGP Resetting Code), from CP_CARD_LIST_PINS and PIN_INFO. */
async function unblockPinId(opened: OpenedCard): Promise<PinId | undefined> {
  const list = await opened.session.getProperty(CardProperty.CP_CARD_LIST_PINS).catch(() => 0);
  for (let id = 0; id < 8; id++) {
    if ((list & (1 << id)) === 0) continue;
    if ((await pinInfo(opened, id))?.purpose === SecretPurpose.UnblockOnlyPin) return id as PinId;
  }
  return undefined;
}

/** What a PIN is called on this card, for prompts and messages. */
function pinName(opened: OpenedCard, pinId: number, purpose: number | undefined): string {
  if (pinId === ROLE_USER) return 'PIN';
  if (pinId === ROLE_ADMIN) return 'admin PIN';
  if (purpose === SecretPurpose.UnblockOnlyPin)
    return opened.session.pluginName === 'OpenPGP' ? 'Resetting Code' : 'PUK';
  return `PIN ${pinId}`;
}

function envOptionOf(pinId: number): SecretEnvOption {
  return pinId === ROLE_USER ? 'pin-env' : 'admin-pin-env';
}

async function statusLine(opened: OpenedCard, pinId: number): Promise<string> {
  return describePinStatus(await readPinStatus(opened.session, pinId));
}

async function targetPin(opened: OpenedCard, role: Role): Promise<PinId> {
  if (role === 'user') return ROLE_USER;
  if (role === 'admin') return ROLE_ADMIN;
  const id = await unblockPinId(opened);
  if (id === undefined) throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this card has no PUK');
  return id;
}

async function verify(context: CommandContext, opened: OpenedCard, role: Role) {
  if (role === 'admin') {
    const method = await authenticateAdmin(opened.session, context.credentials, cardLabel(opened));
    context.print(`admin authenticated (${method})`);
    return { role, verified: true, method };
  }
  if (role === 'puk')
    throw new UsageError('a PUK is not verified on its own: use pin unblock or pin change --role puk');
  const pin = await askCardSecret(context.credentials, opened, 'PIN', 'pin-env', { pinId: ROLE_USER });
  try {
    await opened.session.authenticatePin('user', pin);
  } finally {
    wipe(pin);
  }
  context.print('PIN verified');
  return { role, verified: true };
}

async function change(context: CommandContext, opened: OpenedCard, role: Role) {
  const target = await targetPin(opened, role);
  const info = await pinInfo(opened, target);
  if (target === ROLE_ADMIN && (await isAdminChallengeResponse(opened))) {
    throw new UsageError(
      opened.session.pluginName === 'PIV'
        ? 'the PIV admin is a management key: change it with `minidriver piv set-management-key`'
        : `the ${opened.session.pluginName} admin is a challenge/response key: the CLI cannot change it`,
    );
  }
  // Who may change it (PIN_INFO changePermission): the PIN itself, or another (OpenPGP: PW3 sets the
  // Resetting Code).
  let by: PinId = target;
  const permission = info?.changePermission ?? 1 << target;
  if ((permission & (1 << target)) === 0) {
    for (let id = 0; id < 8; id++) if (permission & (1 << id)) by = id as PinId;
  }
  const name = pinName(opened, target, info?.purpose);
  const byName = pinName(opened, by, by === target ? info?.purpose : (await pinInfo(opened, by))?.purpose);
  const current = await askCardSecret(
    context.credentials,
    opened,
    by === target ? `current ${name}` : byName,
    envOptionOf(by),
    { pinId: by },
  );
  let next: Uint8Array;
  try {
    next = await askCardSecret(context.credentials, opened, `new ${name}`, 'new-pin-env', { confirm: true });
  } catch (error) {
    wipe(current);
    throw error;
  }
  try {
    await opened.session.changeAuthenticatorEx(PIN_CHANGE_FLAG_CHANGEPIN, by, current, target, next);
  } finally {
    wipe(current, next);
  }
  context.print(`${name} changed`);
  return { role, changed: true };
}

async function unblock(context: CommandContext, opened: OpenedCard, role: Role) {
  if (role !== 'user') throw new UsageError('only the user PIN can be unblocked (--role user)');
  const info = await opened.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER);
  // The card's unblock-only PIN (PUK, Resetting Code) when it has tries left, else the first that may.
  let unblocker: number | undefined;
  for (let id = 0; id < 8; id++) if (info.unblockPermission & (1 << id)) unblocker ??= id;
  for (let id = 0; id < 8; id++) {
    if ((info.unblockPermission & (1 << id)) === 0) continue;
    if ((await pinInfo(opened, id))?.purpose !== SecretPurpose.UnblockOnlyPin) continue;
    const tries = await readRetriesLeft(opened.session, id);
    if (tries !== 0) unblocker = id;
  }
  if (unblocker === undefined)
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this card has no way to unblock the user PIN');
  if (unblocker === ROLE_ADMIN && (await isAdminChallengeResponse(opened))) {
    // GIDS-style: the admin key answers a challenge to unblock.
    const choice = context.credentials.adminKey();
    if (!choice) throw new UsageError('unblocking needs the admin key: --admin-key-env VAR or --admin-key default');
    const key = choice.kind === 'default' ? defaultAdminKey(opened.session.pluginName) : choice.key;
    if (!key) throw new UsageError(`no default admin key for ${opened.session.pluginName}`);
    let next: Uint8Array;
    try {
      next = await askCardSecret(context.credentials, opened, 'new PIN', 'new-pin-env', { confirm: true });
    } catch (error) {
      wipe(key);
      throw error;
    }
    try {
      const response = encryptChallenge(key, await opened.session.getChallenge());
      await opened.session.unblockPin('user', response, next, 0, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE);
    } finally {
      wipe(key, next);
    }
  } else {
    const label = pinName(opened, unblocker, (await pinInfo(opened, unblocker))?.purpose);
    const secret = await askCardSecret(context.credentials, opened, label, 'admin-pin-env', { pinId: unblocker });
    let next: Uint8Array;
    try {
      next = await askCardSecret(context.credentials, opened, 'new PIN', 'new-pin-env', { confirm: true });
    } catch (error) {
      wipe(secret);
      throw error;
    }
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
  usage: 'verify|change|unblock|status [--role user|admin|puk]',
  summary: 'verify, change or unblock a PIN (or the PUK), or show tries left',
  examples: [
    'minidriver pin status',
    'minidriver pin change                 # current PIN once, the new PIN twice',
    'minidriver pin change --role puk      # PIV PUK; OpenPGP Resetting Code (asks the admin PIN)',
    "printf '12345678\\n654321\\n' | minidriver pin unblock --pin-stdin",
  ],
  subcommands: ACTIONS,
  options: {
    role: { type: 'string', placeholder: 'user|admin|puk', description: 'which PIN (default user)' },
    'new-pin-env': {
      type: 'string',
      placeholder: '<VAR>',
      description: 'read the new PIN from environment variable VAR',
    },
  },
  async run(context) {
    const action = requirePositional(context, 0, 'verify|change|unblock|status');
    const role = roleOf(context);
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(
        `unknown pin action${didYouMean(action, ACTIONS)} (choose verify, change, unblock or status)`,
      );
    return withCard(context, async (opened) => {
      if (action === 'verify') return verify(context, opened, role);
      if (action === 'change') return change(context, opened, role);
      if (action === 'unblock') return unblock(context, opened, role);
      return status(context, opened);
    });
  },
};
