/**
 * __PACKAGE_NAME__: the minidriver plugin of the __CARD_NAME__ card. Applications do not import it: the
 * loader (@minidriver/loader) finds it through the `minidriver` manifest of package.json and imports it
 * when a card with its ATR (or its AID) is inserted.
 *
 * @packageDocumentation
 */
import type { CardContext, Minidriver, MinidriverPlugin } from '@minidriver/spec';
import { CardApplication } from './card-commands.js';
import { CardMinidriver } from './card-minidriver.js';
import { CARD_NAME } from './card-profile.js';

export { PIN_TABLE } from './card-minidriver.js';
export { CARD_AID, CARD_ATR, CARD_NAME, CONTAINER_COUNT } from './card-profile.js';

/** The plugin: CardAcquireContext selects the card's application and returns its minidriver. */
export const plugin: MinidriverPlugin = {
  name: CARD_NAME,
  // Must equal the manifest's cardDataVersions (the loader checks).
  cardDataVersions: { min: 4, current: 7 },
  async acquireContext(context: CardContext): Promise<Minidriver> {
    const card = new CardApplication(context.transport);
    await card.select();
    return new CardMinidriver(card);
  },
};

export default plugin;
