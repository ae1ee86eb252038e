/**
 * @packageDocumentation
 * Where the CLI finds a card family's management code (outside the minidriver contract): the card
 * package's `./management` export, by plugin name. Everything card-specific lives there; the CLI reaches
 * it through `CardSession.manage`. Also the container names a card family gives its containers (`9a`,
 * `sig`), accepted wherever a container index is.
 */

import { ScardError } from '@minidriver/spec';
import { didYouMean } from '../parse/suggest.js';
import { UsageError } from '../parse/usage-error.js';
import type { OpenedCard } from './open-card.js';

/** The management modules of the card packages the CLI ships with, by plugin name. */
const MANAGEMENT_MODULES = {
  PIV: () => import('@minidriver/card-piv/management'),
  OpenPGP: () => import('@minidriver/card-openpgp/management'),
} as const;

type PivModule = Awaited<ReturnType<(typeof MANAGEMENT_MODULES)['PIV']>>;
type OpenPgpModule = Awaited<ReturnType<(typeof MANAGEMENT_MODULES)['OpenPGP']>>;

/** The PIV management module, or SCARD_E_UNSUPPORTED_FEATURE naming the card when it is not PIV. */
export async function pivModule(opened: OpenedCard): Promise<PivModule> {
  if (opened.session.pluginName !== 'PIV') {
    throw new ScardError('SCARD_E_UNSUPPORTED_FEATURE', `this is a ${opened.session.pluginName} card, not a PIV card`);
  }
  return MANAGEMENT_MODULES.PIV();
}

/** The OpenPGP management module, or SCARD_E_UNSUPPORTED_FEATURE naming the card when it is not OpenPGP. */
export async function openPgpModule(opened: OpenedCard): Promise<OpenPgpModule> {
  if (opened.session.pluginName !== 'OpenPGP') {
    throw new ScardError(
      'SCARD_E_UNSUPPORTED_FEATURE',
      `this is a ${opened.session.pluginName} card, not an OpenPGP card`,
    );
  }
  return MANAGEMENT_MODULES.OpenPGP();
}

/** The container names of the card's family (empty when it has none). */
export async function containerNames(pluginName: string): Promise<ReadonlyMap<string, number>> {
  const load = Object.hasOwn(MANAGEMENT_MODULES, pluginName)
    ? MANAGEMENT_MODULES[pluginName as keyof typeof MANAGEMENT_MODULES]
    : undefined;
  return load === undefined ? new Map() : (await load()).CONTAINER_NAMES;
}

/** The name of container `index` on this card (`9a`, `sig`), if its family names it. */
export async function containerNameOf(opened: OpenedCard, index: number): Promise<string | undefined> {
  for (const [name, candidate] of await containerNames(opened.session.pluginName)) if (candidate === index) return name;
  return undefined;
}

/** The `--container` option of every command that works on one container (checked by {@link checkContainerText}). */
export const CONTAINER_OPTION = {
  container: { type: 'string', placeholder: '<n|slot>', description: 'container index, or slot name (9a, sig...)' },
} as const;

/** Checks the syntax of a `--container` value before the card is opened: an index or a name. */
export function checkContainerText(text: string, what = '--container'): string {
  if (!/^(\d{1,3}|[A-Za-z0-9]{1,8})$/.test(text) || (/^\d+$/.test(text) && Number(text) > 255)) {
    throw new UsageError(`${what} must be a container index 0..255 or a slot name (9a, 9c, sig, dec...)`);
  }
  return text;
}

/** The container index a `--container` value names on this card: `0`..`255`, or a slot name. */
export async function resolveContainer(opened: OpenedCard, text: string): Promise<number> {
  const names = await containerNames(opened.session.pluginName);
  // A PIV slot name made of digits (82..95) is a name, not an index: names win on cards that have them.
  const named = names.get(text.toLowerCase());
  if (named !== undefined) return named;
  if (/^\d+$/.test(text) && Number(text) <= 255) return Number(text);
  const known = [...names.keys()];
  throw new UsageError(
    `"${text}" is not a container of this ${opened.session.pluginName} card${didYouMean(text.toLowerCase(), known)}${
      known.length ? ` (names: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''})` : ''
    }`,
  );
}

/** `0 (9a)` for messages. */
export async function containerLabel(opened: OpenedCard, index: number): Promise<string> {
  const name = await containerNameOf(opened, index);
  return name === undefined ? String(index) : `${index} (${name})`;
}
