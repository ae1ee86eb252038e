/**
 * @packageDocumentation
 * Where the slots come from: the readers and the token of @minidriver/keystore in each. Every reader the
 * store uses is a slot, with or without a card; a reader stays a slot once seen (its token absent while no
 * card is in it, or after it was unplugged), so slot ids stay valid across removals.
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
  /**
   * Calls `listener` with a reader's name whenever a token comes into it or leaves it, or the reader itself
   * comes or goes (the slot events of C_WaitForSlotEvent); returns what stops it. Optional: without it
   * C_WaitForSlotEvent never reports an event.
   */
  watch?(listener: (readerName: string) => void): () => void;
}

/** The readers of a KeyStore: every reader it uses now or used since the server started, in name order. */
export class KeyStoreSource implements TokenSource {
  private readonly seen = new Set<string>();

  constructor(private readonly store: KeyStore) {
    for (const name of store.readers) this.seen.add(name);
    for (const token of store.tokens) this.seen.add(token.readerName);
    store.on('token-added', (token) => this.seen.add(token.readerName));
    store.on('reader-added', (name) => this.seen.add(name));
  }

  readers(): readonly Reader[] {
    const tokens = this.store.tokens;
    for (const name of this.store.readers) this.seen.add(name);
    for (const token of tokens) this.seen.add(token.readerName);
    return [...this.seen].sort().map((name) => ({ name, token: tokens.find((token) => token.readerName === name) }));
  }

  watch(listener: (readerName: string) => void): () => void {
    const onToken = (token: Token) => listener(token.readerName);
    this.store.on('token-added', onToken);
    this.store.on('token-removed', onToken);
    this.store.on('reader-added', listener);
    this.store.on('reader-removed', listener);
    return () => {
      this.store.off('token-added', onToken);
      this.store.off('token-removed', onToken);
      this.store.off('reader-added', listener);
      this.store.off('reader-removed', listener);
    };
  }
}
