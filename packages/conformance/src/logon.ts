/**
 * The calls of a Base CSP logon (docs/spec/minidriver.md §10): what Windows asks a minidriver when a user
 * signs on with the card, for measuring what a plugin costs in APDUs.
 *
 * @packageDocumentation
 */

import { decodeContainerMap } from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import { CONTAINER_MAP_VALID_CONTAINER } from '@minidriver/spec';

/**
 * Runs a logon on `session`: reads cardcf and cmapfile, lists mscp, reads every file in it but cmapfile (the
 * certificates), then CardGetContainerInfo of every valid container. Resolves with the number of
 * certificate files read.
 */
export async function baseCspLogon(session: CardSession): Promise<number> {
  await session.readFile(null, 'cardcf');
  const map = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
  const files = await session.enumFiles('mscp');
  let certificates = 0;
  for (const name of files.filter((file) => file !== 'cmapfile')) {
    await session.readFile('mscp', name);
    certificates++;
  }
  for (const [index, record] of map.entries()) {
    if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0) await session.getContainerInfo(index);
  }
  return certificates;
}
