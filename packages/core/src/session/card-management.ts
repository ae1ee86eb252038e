/**
 * @packageDocumentation
 * What card-specific management code gets from {@link CardSession.manage}: operations outside the
 * minidriver contract (a PIV application reset, an OpenPGP card's cardholder data...) are written by the
 * card's own package and run through the session, inside one of its transactions, never as APDUs in an
 * application.
 */
import type { Minidriver, Transport } from '@minidriver/spec';

/** The card, as management code in the card's package reaches it inside a session transaction. */
export interface CardManagementAccess {
  /** The plugin's name (its manifest `name`): management code checks it is meant for this card. */
  readonly pluginName: string;
  /** The plugin's minidriver of this session. */
  readonly minidriver: Minidriver;
  /** The session's transport (traced when the session traces); the transaction is already held. */
  readonly transport: Transport;
}

/** A management operation: card-package code run by {@link CardSession.manage}. */
export type CardManagementOperation<T> = (access: CardManagementAccess) => Promise<T>;
