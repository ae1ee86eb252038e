/**
 * The authentication state a session keeps (docs/spec/minidriver.md §6.2): the PINs this session
 * authenticated and has not deauthenticated. Dropping a PIN also drops the plugin's cache entries, made
 * while it was authenticated (docs/spec/minidriver.md §4.8).
 *
 * @packageDocumentation
 */
import { createPinSet, type PinId, type PinSet } from '@minidriver/spec';

/** The PIN set of one session. */
export class AuthState {
  #pins: PinSet = 0;
  readonly #onDrop: () => void;

  /** @param onDrop - called whenever PINs are dropped (the cache coordinator forgets plugin entries). */
  constructor(onDrop: () => void) {
    this.#onDrop = onDrop;
  }

  /** The PINs authenticated. */
  get pins(): PinSet {
    return this.#pins;
  }

  /** `ids` are now authenticated. */
  grant(...ids: PinId[]): void {
    this.#pins |= createPinSet(...ids);
  }

  /** `pinSet` is no longer authenticated (0xFF: reset, removal, close). */
  drop(pinSet: PinSet): void {
    this.#pins &= ~pinSet & 0xff;
    this.#onDrop();
  }
}
