/**
 * @packageDocumentation
 * Asking for a card's PIN the way a person needs it: the prompt names the card and the PIN, says how many
 * tries are left, and a new PIN is asked twice on a terminal.
 */
import type { CredentialSource, SecretEnvOption } from '../input/credentials.js';
import type { OpenedCard } from './open-card.js';
import { readRetriesLeft } from './pin-retries.js';

/** `YubiKey 5 in "Virtual PCD 00 00"`: the card a prompt is for. */
export function cardLabel(opened: OpenedCard): string {
  return `${opened.resolution.cardName} in "${opened.readerName}"`;
}

/**
 * A PIN of `opened` from the credential source: `label` names it ("PIN", "PUK", "admin PIN (PW3)"),
 * `pinId` is the PIN whose tries left the prompt shows (the minidriver PIN id), `confirm` asks twice.
 */
export async function askCardSecret(
  credentials: CredentialSource,
  opened: OpenedCard,
  label: string,
  envOption: SecretEnvOption,
  options: { readonly pinId?: number; readonly confirm?: boolean } = {},
): Promise<Uint8Array> {
  const triesLeft =
    options.pinId === undefined || !process.stdin.isTTY ? null : await readRetriesLeft(opened.session, options.pinId);
  return credentials.secret(label, envOption, {
    card: cardLabel(opened),
    triesLeft,
    ...(options.confirm ? { confirm: true } : {}),
  });
}
