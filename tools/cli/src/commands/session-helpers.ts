/**
 * Running a command's work on an open card session, and authenticating only when the card asks:
 * the operation is tried first; if the card answers "security status not satisfied", the needed role is
 * authenticated (PIN or admin secret) and the operation is tried once more.
 */
import { ROLE_USER, ScardError, wipe } from '@minidriver/spec';
import { type AdminMethod, authenticateAdmin } from '../card/admin-authentication.js';
import { type OpenedCard, useCard } from '../card/open-card.js';
import { askCardSecret, cardLabel } from '../card/pin-prompts.js';
import type { CommandContext } from './context.js';

/** Opens the card, runs `work`, and closes the card (saving a simulator's state) whatever happens. */
export async function withCard<T>(context: CommandContext, work: (opened: OpenedCard) => Promise<T>): Promise<T> {
  return useCard(await context.openSession(), work);
}

/** Verifies the user PIN from the command line's credential source. */
export async function authenticateUser(context: CommandContext, opened: OpenedCard): Promise<void> {
  const pin = await askCardSecret(context.credentials, opened, 'PIN', 'pin-env', { pinId: ROLE_USER });
  try {
    await opened.session.authenticatePin('user', pin);
  } finally {
    wipe(pin);
  }
}

/** Authenticates the admin as the card needs it (admin key or admin PIN). */
export function authenticateAdministrator(context: CommandContext, opened: OpenedCard): Promise<AdminMethod> {
  return authenticateAdmin(opened.session, context.credentials, cardLabel(opened));
}

function needsAuthentication(error: unknown): boolean {
  return (
    ScardError.hasCode(error, 'SCARD_W_SECURITY_VIOLATION') ||
    ScardError.hasCode(error, 'SCARD_W_CARD_NOT_AUTHENTICATED')
  );
}

/** Runs `operation`; when the card refuses it for lack of `role`, authenticates that role and retries once. */
export async function withRole<T>(
  context: CommandContext,
  opened: OpenedCard,
  role: 'user' | 'admin',
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!needsAuthentication(error)) throw error;
  }
  if (role === 'user') await authenticateUser(context, opened);
  else await authenticateAdministrator(context, opened);
  return operation();
}
