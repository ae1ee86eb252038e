/**
 * @packageDocumentation
 * `--pin-policy` and `--touch-policy` of `keygen` and `import-key`. The PIN policy goes through the
 * contract (createContainerEx's PIN id: never → ROLE_EVERYONE, once → the user PIN, always → the card's
 * signature PIN, verified before each use); a touch policy is a YubiKey PIV feature, reached through the
 * card package's management code.
 */

import type { CardSession } from '@minidriver/core';
import { CardProperty, type PinId, ROLE_USER, ScardError, SecretPurpose } from '@minidriver/spec';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';

export const PIN_POLICY_NAMES = ['default', 'never', 'once', 'always'] as const;
export type PinPolicyName = (typeof PIN_POLICY_NAMES)[number];
export const TOUCH_POLICY_NAMES = ['default', 'never', 'always', 'cached'] as const;
export type TouchPolicyName = (typeof TOUCH_POLICY_NAMES)[number];

/** The policy options, for commands' option tables. */
export const POLICY_OPTIONS = {
  'pin-policy': {
    type: 'string',
    placeholder: 'default|never|once|always',
    description: 'when the key needs the PIN (always: before each use)',
  },
  'touch-policy': {
    type: 'string',
    placeholder: 'default|never|always|cached',
    description: 'when the key needs a touch (YubiKey PIV)',
  },
} as const;

/** Checks a `--pin-policy` / `--touch-policy` value. */
export function policyOption<T extends string>(value: string | undefined, names: readonly T[], option: string): T {
  if (value === undefined) return 'default' as T;
  if (!(names as readonly string[]).includes(value)) {
    throw new UsageError(`--${option} must be ${names.join(', ')}${didYouMean(value, names)}`);
  }
  return value as T;
}

/** The PIN id a key of `policy` is bound to through createContainerEx, or undefined for the card default. */
export async function pinIdOfPolicy(session: CardSession, policy: PinPolicyName): Promise<PinId | undefined> {
  if (policy === 'default') return undefined;
  if (policy === 'never') {
    // The contract binds a key to a PIN (1..7): a key usable without any PIN is outside it.
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      'a key without PIN cannot be made through the minidriver contract (PIV keygen does it through the card package)',
    );
  }
  if (policy === 'once') return ROLE_USER;
  const list = await session.getProperty(CardProperty.CP_CARD_LIST_PINS).catch(() => 0);
  for (let id = 0; id < 8; id++) {
    if ((list & (1 << id)) === 0) continue;
    const info = await session.getProperty(CardProperty.CP_CARD_PIN_INFO, id).catch(() => undefined);
    if (info?.purpose === SecretPurpose.DigitalSignaturePin) return id as PinId;
  }
  throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', 'this card has no PIN that is asked before each use');
}
