/**
 * The __CARD_NAME__ card as its manifest (package.json "minidriver") describes it: name, ATR, AID.
 * Change them here and in package.json together.
 *
 * @packageDocumentation
 */

/** The card family's name (the manifest's "name"). */
export const CARD_NAME = '__CARD_NAME__';

/** The card's answer to reset, hex (the manifest's "atrs[0].atr"). */
export const CARD_ATR = '__CARD_ATR__';

/** The card application's AID, hex (the manifest's "aids[0]"): the plugin SELECTs it first. */
export const CARD_AID = '__CARD_AID__';

/** Containers (key slots) the card has: 0 to 3, each an ECDSA P-256 key. */
export const CONTAINER_COUNT = 4;

/** The user PIN's reference in VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER; 3 tries for it and for the PUK. */
export const USER_PIN_REFERENCE = 0x81;
export const PIN_TRIES = 3;

/** Data objects of GET DATA / PUT DATA (P2): the card id, and one certificate per container. */
export const DataObject = {
  CARD_ID: 0x01,
  CERTIFICATE_BASE: 0x10,
} as const;

/** Bytes a data object may hold (a certificate of a few kilobytes fits). */
export const MAX_OBJECT_SIZE = 4096;
