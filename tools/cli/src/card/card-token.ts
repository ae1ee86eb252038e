/**
 * @packageDocumentation
 * The key store token of an opened card: the CLI's keys, certificates, signatures, decryption and key
 * generation all go through it (@minidriver/keystore), none of that logic lives here. Its PIN prompt is the
 * command line's credential source (`--pin-env`, `--admin-key`, a terminal prompt), asked only when the
 * card needs a PIN.
 */
import { type Key, openToken, type PinPrompt, type Token } from '@minidriver/keystore';
import type { CredentialSource } from '../input/credentials.js';
import { UsageError } from '../parse/usage-error.js';
import { adminKeyFromCredentials } from './admin-authentication.js';
import type { OpenedCard } from './open-card.js';
import { askCardSecret } from './pin-prompts.js';

const tokens = new WeakMap<OpenedCard, Promise<Token>>();

/** A prompt answering each PIN the card asks for from `credentials`: admin key, admin PIN or PIN. */
export function credentialPrompt(credentials: CredentialSource, opened: OpenedCard): PinPrompt {
  return (request) => {
    if (request.type === 'challenge-response') return adminKeyFromCredentials(credentials, opened.session.pluginName);
    const admin = request.role === 'admin';
    return askCardSecret(credentials, opened, admin ? 'admin PIN' : 'PIN', admin ? 'admin-pin-env' : 'pin-env', {
      pinId: request.pinId,
    });
  };
}

/** The token over `opened`'s session (one per opened card), prompting from `credentials`. */
export function cardToken(credentials: CredentialSource, opened: OpenedCard): Promise<Token> {
  let token = tokens.get(opened);
  if (token === undefined) {
    token = openToken(opened.session, {
      resolution: opened.resolution,
      readerName: opened.readerName,
      atr: opened.transport.atr,
      prompt: credentialPrompt(credentials, opened),
    });
    tokens.set(opened, token);
  }
  return token;
}

/**
 * Every key of the card (listing commands): the token opened and its keys read in one card transaction, so
 * the token's properties and the listing share what they read. Never asks for a PIN.
 */
export function cardKeys(credentials: CredentialSource, opened: OpenedCard): Promise<Key[]> {
  return opened.session.transaction(async () => (await cardToken(credentials, opened)).keys());
}

/** The keys of container `index`, signature half first; none → SCARD-free usage error naming the container. */
export async function containerKeys(token: Token, index: number): Promise<Key[]> {
  return (await token.keys()).filter((key) => key.container === index);
}

/** The key of container `index` that signs (RSA or ECDSA), or a usage error. */
export async function signingKey(token: Token, index: number): Promise<Key> {
  const key = (await containerKeys(token, index)).find((candidate) => candidate.usages.includes('sign'));
  if (!key) throw new UsageError(`container ${index} has no key that can sign`);
  return key;
}

/** The CLI's names of a key's kind: `RSA`, `ECDSA`, `ECDH`. */
export function keyKind(key: Key): 'RSA' | 'ECDSA' | 'ECDH' {
  return key.algorithm.type === 'rsa' ? 'RSA' : key.usages.includes('derive') ? 'ECDH' : 'ECDSA';
}
