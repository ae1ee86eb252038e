/**
 * Authenticating the card's administrator the way the card needs it: a challenge/response admin
 * key (PIV management key, GIDS admin key) answered by encrypting the challenge, or an admin PIN
 * (OpenPGP PW3). The well-known default key is used only when the user asked for it.
 */

import type { CardSession } from '@minidriver/core';
import { answerChallenge } from '@minidriver/keystore';
import { CardProperty, ROLE_ADMIN, SecretType, wipe } from '@minidriver/spec';
import type { CredentialSource } from '../input/credentials.js';
import { UsageError } from '../parse/usage-error.js';
import { readRetriesLeft } from './pin-retries.js';

/** Factory admin keys by plugin name (the values the card vendors publish). */
const DEFAULT_ADMIN_KEYS: Readonly<Record<string, string>> = {
  // PIV management key 9B, 3DES, as shipped on YubiKeys and in SP 800-73 test cards.
  PIV: '010203040506070801020304050607080102030405060708',
  // GIDS admin key (3DES), Microsoft's provisioning example and the GIDS simulator's factory key.
  GIDS: '010203040506070801020304050607080102030405060708',
};

/** The default admin key of a plugin, if the CLI knows one. */
export function defaultAdminKey(pluginName: string): Uint8Array | undefined {
  const hex = Object.hasOwn(DEFAULT_ADMIN_KEYS, pluginName) ? DEFAULT_ADMIN_KEYS[pluginName] : undefined;
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** The response to an admin-key challenge: the key store's (3DES, AES, GIDS 3DES-CBC). */
export const encryptChallenge = answerChallenge;

/**
 * The admin key the command line gives (`--admin-key default` or `--admin-key-env VAR`) for a card of
 * `pluginName`, or a usage error saying how to give it. The caller wipes it.
 */
export function adminKeyFromCredentials(credentials: CredentialSource, pluginName: string): Uint8Array {
  const choice = credentials.adminKey();
  if (choice === undefined) {
    throw new UsageError('this operation needs the admin key: pass --admin-key-env VAR (hex) or --admin-key default');
  }
  const key = choice.kind === 'default' ? defaultAdminKey(pluginName) : choice.key;
  if (key === undefined)
    throw new UsageError(`no well-known default admin key for a ${pluginName} card; use --admin-key-env VAR`);
  return key;
}

/** How the admin was authenticated (for output). */
export type AdminMethod = 'default-admin-key' | 'admin-key' | 'admin-pin';

/**
 * Authenticates ROLE_ADMIN on `session`: an admin key when the card's admin secret is challenge/response,
 * else an admin PIN. Fails with a usage error when the user gave no way to get the secret.
 */
export async function authenticateAdmin(
  session: CardSession,
  credentials: CredentialSource,
  card?: string,
): Promise<AdminMethod> {
  let challengeResponse = true;
  try {
    const info = await session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_ADMIN);
    challengeResponse = info.pinType === SecretType.ChallengeResponsePinType;
  } catch {
    // No PIN info for the admin: assume the minidriver default, a challenge/response admin key.
  }
  if (!challengeResponse) {
    const triesLeft = process.stdin.isTTY ? await readRetriesLeft(session, ROLE_ADMIN) : null;
    const pin = await credentials.secret('admin PIN', 'admin-pin-env', { ...(card ? { card } : {}), triesLeft });
    try {
      await session.authenticateEx(ROLE_ADMIN, 0, pin);
    } finally {
      wipe(pin);
    }
    return 'admin-pin';
  }
  const key = adminKeyFromCredentials(credentials, session.pluginName);
  try {
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    const response = encryptChallenge(key, challenge);
    try {
      await session.authenticateEx(ROLE_ADMIN, 0, response);
    } finally {
      wipe(response);
    }
  } finally {
    wipe(key);
  }
  return credentials.adminKey()?.kind === 'default' ? 'default-admin-key' : 'admin-key';
}
