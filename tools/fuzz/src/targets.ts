/**
 * The plugins the fuzzer drives (PIV, OpenPGP, GIDS), each with its simulator prepared once (keys generated, a ciphertext made
 * for its decryption key) and the steps of a full flow: open, read the file system, logon, sign, decrypt,
 * admin logon and key generation, properties, close. Every flow starts from a fresh copy of the prepared card.
 *
 * @packageDocumentation
 */
import { constants, publicEncrypt } from 'node:crypto';
import { plugin as gidsPlugin } from '@minidriver/card-gids';
import { DEFAULT_PIN as GIDS_PIN, GidsSimulator } from '@minidriver/card-gids/sim';
import { publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { plugin as openPgpPlugin } from '@minidriver/card-openpgp';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { encryptManagementChallenge, plugin as pivPlugin } from '@minidriver/card-piv';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '@minidriver/card-piv/sim';
import { CardSession } from '@minidriver/core';
import { SimTransport, type SimulatedCard } from '@minidriver/sim';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_PADDING_PKCS1,
  CalgHash,
  CardProperty,
  KeySpec,
  type MinidriverPlugin,
  ROLE_ADMIN,
  ROLE_USER,
  reverseBytes,
} from '@minidriver/spec';

/** One step of a flow: a session call or two. */
export interface FuzzStep {
  readonly name: string;
  run(session: CardSession): Promise<unknown>;
}

/** A plugin with its prepared simulator and flow. */
export interface FuzzTarget {
  readonly name: string;
  readonly plugin: MinidriverPlugin;
  /** A fresh copy of the prepared card. */
  newCard(): SimulatedCard;
  readonly steps: readonly FuzzStep[];
}

const text = (value: string) => new TextEncoder().encode(value);
const HASH = new Uint8Array(32).fill(0x5a);

function signStep(containerIndex: number, keySpec: number): FuzzStep {
  return {
    name: 'sign',
    run: (session) =>
      session.signData({
        version: 1,
        containerIndex,
        keySpec: keySpec as never,
        signingFlags: 0,
        hashAlgorithmId: CalgHash.CALG_SHA_256,
        data: HASH,
      }),
  };
}

function decryptStep(containerIndex: number, ciphertext: Uint8Array): FuzzStep {
  return {
    name: 'decrypt',
    run: (session) =>
      session.rsaDecrypt({
        version: 2,
        containerIndex,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: reverseBytes(ciphertext),
        paddingType: CARD_PADDING_PKCS1,
      }),
  };
}

const readStep: FuzzStep = {
  name: 'read',
  run: async (session) => {
    await session.readFile(null, 'cardid');
    await session.readFile('mscp', 'cmapfile');
    await session.enumFiles('mscp');
    await session.getContainerInfo(0);
  },
};

const propertiesStep: FuzzStep = {
  name: 'properties',
  run: async (session) => {
    await session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER);
    await session.getProperty(CardProperty.CP_CARD_FREE_SPACE);
  },
};

/** A ciphertext for the RSA key-exchange key of `containerIndex` (PKCS #1 v1.5, big-endian). */
async function ciphertextFor(session: CardSession, containerIndex: number): Promise<Uint8Array> {
  const info = await session.getContainerInfo(containerIndex);
  const key = publicKeyBlobToKeyObject(info.keyExchangePublicKey as Uint8Array);
  return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.alloc(32, 0x42)));
}

async function authenticatePivAdmin(session: CardSession): Promise<void> {
  const challenge = await session.getChallengeEx(ROLE_ADMIN);
  await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge));
}

/** PIV: RSA-2048 key exchange key in container 0, keygen of a P-256 key in container 1. */
export async function preparePivTarget(): Promise<FuzzTarget> {
  const card = new PivSimulator({ seed: 'fuzz' });
  const session = await CardSession.open(pivPlugin, new SimTransport(card));
  await authenticatePivAdmin(session);
  await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
  const ciphertext = await ciphertextFor(session, 0);
  await session.close();
  const state = JSON.stringify(card.saveState());
  return {
    name: 'piv',
    plugin: pivPlugin,
    newCard: () => {
      const copy = new PivSimulator({ seed: 'fuzz' });
      copy.loadState(JSON.parse(state));
      return copy;
    },
    steps: [
      readStep,
      { name: 'logon', run: (session) => session.authenticatePin('user', text('123456')) },
      signStep(0, KeySpec.AT_KEYEXCHANGE),
      decryptStep(0, ciphertext),
      {
        name: 'keygen',
        run: async (session) => {
          await authenticatePivAdmin(session);
          await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
        },
      },
      propertiesStep,
    ],
  };
}

/** OpenPGP: RSA-2048 signature (container 0) and decryption (container 1) keys, keygen of P-256 in container 2. */
export async function prepareOpenPgpTarget(): Promise<FuzzTarget> {
  const card = new OpenPgpSimulator();
  const session = await CardSession.open(openPgpPlugin, new SimTransport(card), { version: 7 });
  await session.authenticatePin('admin', text('12345678'));
  await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
  await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
  const ciphertext = await ciphertextFor(session, 1);
  await session.close();
  const state = JSON.stringify(card.saveState());
  return {
    name: 'openpgp',
    plugin: openPgpPlugin,
    newCard: () => {
      const copy = new OpenPgpSimulator();
      copy.loadState(JSON.parse(state));
      return copy;
    },
    steps: [
      readStep,
      { name: 'logon', run: (session) => session.authenticatePin('user', text('123456')) },
      signStep(0, KeySpec.AT_SIGNATURE),
      decryptStep(1, ciphertext),
      {
        name: 'keygen',
        run: async (session) => {
          await session.authenticatePin('admin', text('12345678'));
          await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
        },
      },
      propertiesStep,
    ],
  };
}

/** GIDS: RSA-2048 key exchange key in container 0, keygen of a P-256 key in container 1 (the user PIN may). */
export async function prepareGidsTarget(): Promise<FuzzTarget> {
  const card = new GidsSimulator();
  const session = await CardSession.open(gidsPlugin, new SimTransport(card));
  await session.authenticatePin('user', new Uint8Array(GIDS_PIN));
  await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
  const ciphertext = await ciphertextFor(session, 0);
  await session.close();
  const state = JSON.stringify(card.saveState());
  return {
    name: 'gids',
    plugin: gidsPlugin,
    newCard: () => {
      const copy = new GidsSimulator();
      copy.loadState(JSON.parse(state));
      return copy;
    },
    steps: [
      readStep,
      { name: 'logon', run: (session) => session.authenticatePin('user', new Uint8Array(GIDS_PIN)) },
      signStep(0, KeySpec.AT_KEYEXCHANGE),
      decryptStep(0, ciphertext),
      {
        name: 'keygen',
        run: (session) => session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0),
      },
      propertiesStep,
    ],
  };
}

/** Every target, by name. */
export const TARGETS: Readonly<Record<string, () => Promise<FuzzTarget>>> = {
  piv: preparePivTarget,
  openpgp: prepareOpenPgpTarget,
  gids: prepareGidsTarget,
};
