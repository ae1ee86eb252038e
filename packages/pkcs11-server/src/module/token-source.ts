/**
 * @packageDocumentation
 * Where the slots come from: the readers and the token of @minidriver/keystore in each. A reader stays a
 * slot once seen (its token absent while no card is in it), so slot ids stay valid across removals.
 */
import type { KeyStore, Token } from '@minidriver/keystore';

export type { Key as TokenKey, PinDescription as TokenPin, Token } from '@minidriver/keystore';

/** One reader (one PKCS #11 slot) and the token in it, if any. */
export interface Reader {
  readonly name: string;
  readonly token: Token | undefined;
}

/** The readers the server offers as slots. */
export interface TokenSource {
  readers(): readonly Reader[];
}

/** The readers of a KeyStore: every reader that had a card since the server started, in name order. */
export class KeyStoreSource implements TokenSource {
  private readonly seen = new Set<string>();

  constructor(private readonly store: KeyStore) {
    for (const token of store.tokens) this.seen.add(token.readerName);
    store.on('token-added', (token) => this.seen.add(token.readerName));
  }

  readers(): readonly Reader[] {
    const tokens = this.store.tokens;
    for (const token of tokens) this.seen.add(token.readerName);
    return [...this.seen].sort().map((name) => ({ name, token: tokens.find((token) => token.readerName === name) }));
  }
}
