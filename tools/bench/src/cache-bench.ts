/**
 * The data cache's goals, in APDUs on the simulators (never timed):
 *  1. Warm logon in a new process (acquire, cardcf, cmapfile, every certificate, container info), with
 *     the persistent store, when nothing changed. The goal is at most 2 APDUs; what each card
 *     reaches is what the row prints (docs/cache.md says why: OpenPGP and PIV certificates cannot be
 *     proved fresh without reading them, so they are read in every logon). A "new process" is a new
 *     DataCacheStore and a new PersistentCacheStore over the same directory (what a process starts
 *     with); the logon runs in one caller transaction, as an application's logon does.
 *     The same logon through the key store (opening the token: CardAcquireContext and the token's
 *     properties in one transaction; then `Token.keys()`, one transaction) is printed beside it.
 *  2. Cold certificate listing: at most 0.5x the APDUs of OpenSC's `pkcs15-tool --list-certificates`
 *     through pcscd on the same simulated card, on every card (PIV with three certificates, OpenPGP with
 *     one, GIDS with two); both sides must list the same number of certificates.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { plugin as gidsPlugin } from '@minidriver/card-gids';
import { DEFAULT_PIN as GIDS_PIN, GidsSimulator } from '@minidriver/card-gids/sim';
import { compressCertificate, decodeContainerMap, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { plugin as openPgpPlugin } from '@minidriver/card-openpgp';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { plugin as pivPlugin } from '@minidriver/card-piv';
import { DEFAULT_MANAGEMENT_KEY, DEFAULT_PIN as PIV_PIN, PivSimulator } from '@minidriver/card-piv/sim';
import {
  CardSession,
  createCertificate,
  DataCacheStore,
  PersistentCacheStore,
  withTransaction,
} from '@minidriver/core';
import { KeyStore, type Token } from '@minidriver/keystore';
import { Loader } from '@minidriver/loader';
import {
  ApduRecorder,
  acquireVpcdPortLock,
  recordingTransport,
  SimTransport,
  type SimulatedCard,
  serveVpcd,
} from '@minidriver/sim';
import { CONTAINER_MAP_VALID_CONTAINER, KeySpec, type MinidriverPlugin, ROLE_ADMIN } from '@minidriver/spec';
import { progress, withDeadline } from './deadline.js';
import type { BenchResult } from './result.js';

const encoder = new TextEncoder();

interface CardUnderTest {
  readonly name: string;
  readonly plugin: MinidriverPlugin;
  readonly card: SimulatedCard;
  /** Authenticates whoever may create containers and write certificates. */
  readonly authenticate: (session: CardSession) => Promise<void>;
  /** Containers to create: index and key spec. */
  readonly containers: readonly { index: number; keySpec: number; bits: number }[];
}

/** Challenge/response admin key (3DES ECB of an 8-byte challenge, AES ECB of a 16-byte one). */
async function adminKeyAuthentication(session: CardSession, key: Uint8Array): Promise<void> {
  const challenge = await session.getChallengeEx(ROLE_ADMIN);
  const algorithm = challenge.length === 8 ? 'des-ede3-ecb' : `aes-${key.length * 8}-ecb`;
  const cipher = createCipheriv(algorithm, key, null);
  cipher.setAutoPadding(false);
  await session.authenticateEx(
    ROLE_ADMIN,
    0,
    new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()])),
  );
}

function cards(): CardUnderTest[] {
  return [
    {
      name: 'PIV',
      plugin: pivPlugin,
      card: new PivSimulator({ seed: 'cache-bench' }),
      authenticate: async (session) => {
        await session.authenticatePin('user', encoder.encode(PIV_PIN));
        await adminKeyAuthentication(session, DEFAULT_MANAGEMENT_KEY);
      },
      containers: [
        { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, bits: 2048 },
        { index: 1, keySpec: KeySpec.AT_ECDSA_P256, bits: 0 },
        { index: 2, keySpec: KeySpec.AT_ECDHE_P256, bits: 0 },
      ],
    },
    {
      name: 'OpenPGP',
      plugin: openPgpPlugin,
      card: new OpenPgpSimulator({ seed: 'cache-bench' }),
      authenticate: async (session) => {
        await session.authenticatePin('user', encoder.encode('123456'));
        await session.authenticateEx(ROLE_ADMIN, 0, encoder.encode('12345678'));
      },
      containers: [{ index: 0, keySpec: KeySpec.AT_SIGNATURE, bits: 2048 }],
    },
    {
      name: 'GIDS',
      plugin: gidsPlugin,
      card: new GidsSimulator(),
      authenticate: async (session) => {
        await session.authenticatePin('user', GIDS_PIN);
      },
      containers: [
        { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, bits: 2048 },
        { index: 1, keySpec: KeySpec.AT_ECDSA_P256, bits: 0 },
      ],
    },
  ];
}

/** Keys in the containers and a certificate (issued by a software CA) for each. */
async function provision(target: CardUnderTest): Promise<void> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const session = await CardSession.open(target.plugin, new SimTransport(target.card), { cache: new DataCacheStore() });
  try {
    await target.authenticate(session);
    for (const { index, keySpec, bits } of target.containers) {
      await session.createContainer(index, 1, keySpec, bits);
      const info = await session.getContainerInfo(index);
      const blob = info.keyExchangePublicKey ?? info.signaturePublicKey;
      if (blob === undefined) throw new Error(`${target.name}: container ${index} has no public key`);
      const certificate = await createCertificate({
        publicKey: publicKeyBlobToKeyObject(blob),
        commonName: `${target.name} bench ${index}`,
        issuer: { commonName: 'bench CA', publicKey: ca.publicKey },
        sign: (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
      });
      const exchange = keySpec === KeySpec.AT_KEYEXCHANGE || keySpec === KeySpec.AT_ECDHE_P256;
      const file = `${exchange ? 'kxc' : 'ksc'}${index.toString(16).padStart(2, '0')}`;
      await session.writeFile('mscp', file, compressCertificate(certificate));
    }
  } finally {
    await session.close();
  }
}

/** The logon of docs/spec/minidriver.md §10: cardcf, cmapfile, the mscp listing, every certificate, every valid container. */
async function logon(session: CardSession): Promise<number> {
  await session.readFile(null, 'cardcf');
  const map = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
  let certificates = 0;
  for (const name of (await session.enumFiles('mscp')).filter((file) => /^k[xs]c/.test(file))) {
    await session.readFile('mscp', name);
    certificates++;
  }
  for (const [index, record] of map.entries()) {
    if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0) await session.getContainerInfo(index);
  }
  return certificates;
}

/**
 * One process's logon: fresh process state, the persistent store at `directory`, one transaction.
 * `presence` false hides the transport's presence proof (as through vpcd, which has no reader channel id).
 */
async function logonInNewProcess(target: CardUnderTest, directory: string, presence = true) {
  const recorder = new ApduRecorder();
  const transport = recordingTransport(new SimTransport(target.card), recorder);
  if (!presence) delete transport.presenceToken;
  let certificates = 0;
  let mode = 0;
  await withTransaction(transport, async () => {
    const session = await CardSession.open(target.plugin, transport, {
      cache: new DataCacheStore(),
      persistentCache: new PersistentCacheStore({ directory, onWarning: () => undefined }),
    });
    mode = session.cacheMode;
    certificates = await logon(session);
    await session.close();
  });
  await transport.close();
  return { apdus: recorder.totals().apdus, certificates, mode };
}

/** One process's key store on the card: the token opened and its keys listed (the persistent store is not used). */
async function keystoreLogonInNewProcess(target: CardUnderTest): Promise<{ apdus: number; keys: number }> {
  const recorder = new ApduRecorder();
  const transport = recordingTransport(new SimTransport(target.card), recorder);
  const loader = new Loader({
    applicationRoot: fileURLToPath(new URL('..', import.meta.url)),
    onWarning: () => undefined,
  });
  const store = await KeyStore.open({ transports: [transport], loader });
  try {
    const keys = await (store.tokens[0] as Token).keys();
    return { apdus: recorder.totals().apdus, keys: keys.length };
  } finally {
    await store.close();
  }
}

async function benchWarmLogon(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const target of cards()) {
    await provision(target);
    const directory = mkdtempSync(join(tmpdir(), 'minidriver-cache-bench-'));
    try {
      const cold = await logonInNewProcess(target, directory);
      const warm = await logonInNewProcess(target, directory);
      const unproved = await logonInNewProcess(target, directory, false);
      rows.push({
        name: `cache: ${target.name} warm logon in a new process (APDUs)`,
        value: warm.apdus,
        unit: 'APDUs',
        goal: '<= 2',
        pass: warm.apdus <= 2,
        note: `cold ${cold.apdus}; ${unproved.apdus} without a presence proof; ${warm.certificates} certificates; cache mode ${['', 'GLOBAL', 'SESSION_ONLY', 'NO_CACHE'][warm.mode]}`,
      });
      const keystore = await keystoreLogonInNewProcess(target);
      rows.push({
        name: `cache: ${target.name} key store token open + keys in a new process (APDUs)`,
        value: keystore.apdus,
        unit: 'APDUs',
        note: `${keystore.keys} keys; the loader's choice included`,
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Our cold listing (a new session, no cache) against OpenSC's on the same card through pcscd. */
async function benchColdListing(target: CardUnderTest): Promise<BenchResult> {
  await provision(target);
  const recorder = new ApduRecorder();
  const transport = recordingTransport(new SimTransport(target.card), recorder);
  const session = await CardSession.open(target.plugin, transport, { cache: new DataCacheStore() });
  // In one card transaction, as the key store lists: the listing and the certificate reads share objects.
  const ours = await session.transaction(async () => {
    let count = 0;
    for (const name of (await session.enumFiles('mscp')).filter((file) => /^k[xs]c/.test(file))) {
      await session.readFile('mscp', name);
      count++;
    }
    return count;
  });
  await session.close();
  await transport.close();
  const ourApdus = recorder.totals().apdus;

  const port = 35964;
  const reader = 'Virtual PCD 00 01';
  let opensc = 0;
  let listed = 0;
  const release = await withDeadline(acquireVpcdPortLock(port), 240_000, 'the vpcd port lock');
  try {
    const server = serveVpcd(target.card, { port, onApdu: () => opensc++ });
    try {
      await withDeadline(server.connected, 15_000, 'pcscd to connect to vpcd');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      progress('running pkcs15-tool --list-certificates');
      opensc = 0;
      const { stdout } = await promisify(execFile)('pkcs15-tool', ['--reader', reader, '--list-certificates'], {
        timeout: 60_000,
      });
      listed = stdout.split('\n').filter((line) => line.startsWith('X.509 Certificate')).length;
    } finally {
      await server.close();
    }
  } finally {
    release();
  }
  const ratio = ourApdus / opensc;
  return {
    name: `cache: ${target.name} cold certificate listing, ours / OpenSC pkcs15-tool (APDUs)`,
    value: Math.round(ratio * 100) / 100,
    unit: 'x',
    goal: '<= 0.5x',
    pass: ratio <= 0.5 && listed === ours,
    note: `ours ${ourApdus} APDUs for ${ours} certificates, OpenSC ${opensc} for ${listed}`,
  };
}

/** Runs the cache benchmarks. */
export async function benchCache(): Promise<BenchResult[]> {
  const rows = await benchWarmLogon();
  for (const target of cards()) {
    try {
      rows.push(await benchColdListing(target));
    } catch (error) {
      rows.push({
        name: `cache: ${target.name} cold certificate listing vs OpenSC: did not run`,
        value: Number.NaN,
        unit: '',
        note: `needs pcscd with vpcd and OpenSC: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return rows;
}
