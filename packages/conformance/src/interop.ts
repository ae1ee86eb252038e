/**
 * `@minidriver/conformance/interop`: a plugin through PC/SC, as any application meets the card, for
 * interop suites that serve a simulated card into pcscd (`serveVpcdForSuite` of `@minidriver/sim/testing`)
 * and drive real clients against it. Needs the optional peer dependency `@minidriver/pcsc`.
 *
 * @packageDocumentation
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { ecdsaRawToDer, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import {
  CardSession,
  type CardSessionOptions,
  createCertificate,
  createSelfSignedCertificate,
  DataCacheStore,
  PersistentCacheStore,
} from '@minidriver/core';
import { type PcscCard, PcscContext, SCARD_STATE_EMPTY, SCARD_STATE_PRESENT } from '@minidriver/pcsc';
import {
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_PKCS1,
  CalgHash,
  isEcdsaKeySpec,
  type KeySpec,
  type MinidriverPlugin,
  reverseBytes,
} from '@minidriver/spec';

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Connects to the card in `reader` through pcscd (shared), runs `use`, then closes card and context. */
export async function withReaderConnection<T>(reader: string, use: (card: PcscCard) => Promise<T>): Promise<T> {
  const context = await PcscContext.establish();
  try {
    const card = await context.connect(reader, { share: 'shared' });
    try {
      return await use(card);
    } finally {
      await card.close();
    }
  } finally {
    await context.release();
  }
}

/**
 * Opens `plugin` on the card in `reader` through pcscd (with `sessionOptions`: a fresh process's cache
 * stores ...), runs `use`, then closes session, card and context.
 */
export function withPluginSession<T>(
  plugin: MinidriverPlugin,
  reader: string,
  use: (session: CardSession) => Promise<T>,
  sessionOptions: CardSessionOptions = {},
): Promise<T> {
  return withReaderConnection(reader, async (card) => {
    const session = await CardSession.open(plugin, card, sessionOptions);
    try {
      return await use(session);
    } finally {
      await session.close();
    }
  });
}

/**
 * The cache stores a new process starts a session with: an empty in-process store and a persistent store
 * over `directory` (docs/cache.md), for "one logon in a new process" through {@link withPluginSession}.
 */
export function newProcessStores(directory: string): CardSessionOptions {
  return { cache: new DataCacheStore(), persistentCache: new PersistentCacheStore({ directory }) };
}

/**
 * Polls pcscd every 250 ms (up to 60 s) until `reader` reports a card present, or empty. Between two served
 * cards pcscd must see the reader empty first: a card served within one presence poll of the last one is
 * never powered up.
 */
export async function waitForReaderState(reader: string, present: boolean): Promise<void> {
  const wanted = present ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY;
  const context = await PcscContext.establish();
  try {
    let eventState = 0;
    for (let attempt = 0; attempt < 240; attempt++) {
      eventState = (await context.getStatusChange([{ readerName: reader }], 0))[0]?.eventState ?? 0;
      if (eventState & wanted) return;
      await pause(250);
    }
    const state = present ? 'absent from' : 'present in';
    throw new Error(`the simulated card is still ${state} ${reader} (state 0x${eventState.toString(16)})`);
  } finally {
    await context.release();
  }
}

/**
 * A DER certificate for the key of `publicKeyBlob` (a minidriver public key BLOB, as CONTAINER_INFO holds it),
 * named `commonName`, issued by a throwaway P-256 CA: what a foreign tool writes next to a card key.
 */
export function certificateForKeyBlob(publicKeyBlob: Uint8Array, commonName: string): Promise<Uint8Array> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createCertificate({
    publicKey: publicKeyBlobToKeyObject(publicKeyBlob),
    commonName,
    issuer: { commonName: 'interop test CA', publicKey: ca.publicKey },
    sign: (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
  });
}

/** The card key {@link selfSignedByCard} certifies. */
export interface CardKey {
  readonly containerIndex: number;
  /** An RSA key spec (AT_KEYEXCHANGE, AT_SIGNATURE) or an ECDSA one. */
  readonly keySpec: KeySpec;
  /** The key's public half, as CONTAINER_INFO gives it. */
  readonly publicKey: KeyObject;
}

/**
 * A self-signed DER certificate named `commonName` for a card key, signed over SHA-256 by the card through
 * the plugin (CardSignData): an RSA key with PKCS #1 v1.5 (the minidriver's little-endian signature is
 * reversed to the big-endian X.509 carries), an ECDSA key with its r‖s turned into the DER Ecdsa-Sig-Value
 * (RFC 5480). The session must be authenticated for the key.
 */
export function selfSignedByCard(session: CardSession, key: CardKey, commonName: string): Promise<Uint8Array> {
  const { containerIndex, keySpec, publicKey } = key;
  const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
  return createSelfSignedCertificate({
    publicKey,
    commonName,
    sign: async (tbs) => {
      if (isEcdsaKeySpec(keySpec)) {
        const signed = await session.signData({
          version: 1,
          containerIndex,
          keySpec,
          signingFlags: 0,
          hashAlgorithmId: CalgHash.CALG_SHA_256,
          data: sha256(tbs),
        });
        return ecdsaRawToDer(signed.signature as Uint8Array);
      }
      const signed = await session.signData({
        version: 2,
        containerIndex,
        keySpec,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        hashAlgorithmId: 0,
        data: sha256(tbs),
        paddingType: CARD_PADDING_PKCS1,
        paddingInfo: { algorithm: 'SHA256' },
      });
      return reverseBytes(signed.signature as Uint8Array);
    },
  });
}
