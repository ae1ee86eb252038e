/**
 * The OpenPGP plugin in GLOBAL cache mode (docs/cache.md): the witness of the keys in 6E, our counters in
 * DO 0102, what a new process costs when nothing changed, and that a key or certificate changed by another
 * writer (without our counters) is never served stale.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCertificate, decodeContainerMap, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import {
  CardSession,
  createCertificate,
  DataCacheStore,
  PersistentCacheStore,
  withTransaction,
} from '@minidriver/core';
import { encodeTlv } from '@minidriver/iso7816';
import { ApduRecorder, recordingTransport, SimTransport } from '@minidriver/sim';
import { CONTAINER_MAP_VALID_CONTAINER, KeySpec, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin } from './index.js';
import { OpenPgpApplication } from './openpgp-application.js';
import { PasswordReference } from './openpgp-commands.js';
import {
  applicationDataWitness,
  decodeCountersDo,
  encodeCountersDo,
  isProvableOpenPgpEntry,
  KEY_PART_TAGS,
} from './openpgp-freshness.js';

const text = (value: string) => new TextEncoder().encode(value);
const PW3 = text('12345678');
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'minidriver-openpgp-cache-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A 6E answer (v3 layout) with the given discretionary DOs. */
function applicationData(parts: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const inner = [...parts].map(([tag, value]) => encodeTlv(tag, value));
  const discretionary = encodeTlv(0x73, Uint8Array.from(inner.flatMap((part) => [...part])));
  const aid = encodeTlv(0x4f, Uint8Array.of(0xd2, 0x76, 0, 1, 0x24, 1, 3, 4, 0, 6, 1, 2, 3, 4, 0, 0));
  return encodeTlv(0x6e, Uint8Array.of(...aid, ...discretionary));
}

describe('the witness of the keys in 6E', () => {
  const partsArbitrary = fc.record({
    c1: fc.uint8Array({ minLength: 1, maxLength: 12 }),
    c5: fc.uint8Array({ minLength: 60, maxLength: 60 }),
    c6: fc.uint8Array({ minLength: 60, maxLength: 60 }),
    cd: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    de: fc.uint8Array({ minLength: 6, maxLength: 6 }),
    c4: fc.uint8Array({ minLength: 7, maxLength: 7 }),
  });
  const toMap = (parts: Record<string, Uint8Array>) =>
    new Map(Object.entries(parts).map(([tag, value]) => [Number.parseInt(tag, 16), value] as [number, Uint8Array]));

  it('changes with every key part (C1, C5, C6, CD, DE) and not with the PW status C4', () => {
    fc.assert(
      fc.property(
        partsArbitrary,
        fc.constantFrom('c1', 'c5', 'c6', 'cd', 'de'),
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        (parts, changed, c4) => {
          const before = applicationDataWitness(applicationData(toMap(parts)));
          expect(applicationDataWitness(applicationData(toMap({ ...parts, c4 })))).toEqual(before);
          const value = parts[changed as keyof typeof parts];
          const other = Uint8Array.from(value, (byte, index) => (index === 0 ? byte ^ 0x01 : byte));
          expect(applicationDataWitness(applicationData(toMap({ ...parts, [changed]: other })))).not.toEqual(before);
        },
      ),
    );
  });

  it('tells an absent DO from an empty one, and covers exactly the key parts', () => {
    const withEmpty = applicationDataWitness(applicationData(new Map([[0xc6, new Uint8Array(0)]])));
    const without = applicationDataWitness(applicationData(new Map()));
    expect(withEmpty).not.toEqual(without);
    expect(KEY_PART_TAGS).toEqual([0x4f, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xcd, 0xde]);
  });

  it('malformed or foreign answers are SCARD_E_COMM_DATA_LOST, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          applicationDataWitness(bytes);
        } catch (error) {
          expect((error as { name?: string }).name).toBe('SCARD_E_COMM_DATA_LOST');
        }
      }),
    );
    expect(() => applicationDataWitness(encodeTlv(0x65, Uint8Array.of(1)))).toThrow(/6E/);
  });
});

describe('the counters DO 0102', () => {
  it('round-trips our record; anything else is empty or foreign, never counters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (c, f) => {
        const bytes = encodeCountersDo({ containersFreshness: c, filesFreshness: f });
        expect(toHex(bytes).slice(0, 8)).toBe('4d444346');
        expect(decodeCountersDo(bytes)).toEqual({
          kind: 'ours',
          counters: { containersFreshness: c, filesFreshness: f },
        });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        const decoded = decodeCountersDo(bytes);
        if (decoded.kind === 'ours') expect(encodeCountersDo(decoded.counters)).toEqual(bytes);
        else expect(decoded.kind).toBe('foreign');
      }),
    );
    expect(decodeCountersDo(new Uint8Array(0))).toEqual({ kind: 'empty' });
    expect(() => encodeCountersDo({ containersFreshness: 0x10000, filesFreshness: 0 })).toThrow(/16-bit/);
  });

  it('certificates and the mscp listing are not provable; keys, cmapfile and container data are', () => {
    expect(isProvableOpenPgpEntry('file', 'mscp/ksc00')).toBe(false);
    expect(isProvableOpenPgpEntry('file', 'mscp/kxc01')).toBe(false);
    expect(isProvableOpenPgpEntry('file', 'mscp/')).toBe(false);
    expect(isProvableOpenPgpEntry('file', 'mscp/cmapfile')).toBe(true);
    expect(isProvableOpenPgpEntry('container', 'info:0')).toBe(true);
  });
});

/** One process: a fresh process cache and a persistent store over `directory`, one caller transaction. */
async function logonInNewProcess(card: OpenPgpSimulator) {
  const recorder = new ApduRecorder();
  const commands: string[] = [];
  const transport = recordingTransport(new SimTransport(card), recorder);
  const transmit = transport.transmit.bind(transport);
  transport.transmit = async (command) => {
    commands.push(toHex(command.subarray(0, 4)));
    return transmit(command);
  };
  const result = { certificates: new Map<string, string>(), keys: new Map<number, string>() };
  await withTransaction(transport, async () => {
    const session = await CardSession.open(plugin, transport, {
      cache: new DataCacheStore(),
      persistentCache: new PersistentCacheStore({ directory, onWarning: () => undefined }),
    });
    const map = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    for (const name of (await session.enumFiles('mscp')).filter((file) => /^k[xs]c/.test(file))) {
      result.certificates.set(name, toHex(await session.readFile('mscp', name)));
    }
    for (const [index, record] of map.entries()) {
      if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) continue;
      const info = await session.getContainerInfo(index);
      result.keys.set(index, toHex(info.signaturePublicKey ?? info.keyExchangePublicKey ?? new Uint8Array(0)));
    }
    await session.close();
  });
  return { ...result, commands, apdus: recorder.totals().apdus };
}

/** Our session as an administrator: generates a key in container 0 and writes a certificate for it. */
async function provision(card: OpenPgpSimulator, commonName = 'first'): Promise<void> {
  const session = await CardSession.open(plugin, new SimTransport(card), { cache: new DataCacheStore() });
  await session.authenticateEx(2, 0, PW3);
  await session.createContainer(0, 1, KeySpec.AT_SIGNATURE, 2048);
  await session.writeFile('mscp', 'ksc00', await certificateFor(session, commonName));
  await session.close();
}

async function certificateFor(session: CardSession, commonName: string): Promise<Uint8Array> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = await session.getContainerInfo(0);
  const der = await createCertificate({
    publicKey: publicKeyBlobToKeyObject(info.signaturePublicKey as Uint8Array),
    commonName,
    issuer: { commonName: 'test CA', publicKey: ca.publicKey },
    sign: (tbs) => new Uint8Array(sign('sha256', tbs, ca.privateKey)),
  });
  return compressCertificate(der);
}

/** Another tool (as gpg does through scdaemon): the card changed directly, our counters untouched. */
async function foreignTool(card: OpenPgpSimulator, change: (app: OpenPgpApplication) => Promise<void>) {
  const transport = new SimTransport(card);
  const app = new OpenPgpApplication(transport);
  await app.selectApplication();
  await app.verifyPin(PasswordReference.pw3, PW3);
  await change(app);
  await transport.close();
}

describe('OpenPGP across processes (GLOBAL mode, persistent store)', () => {
  it('a new process proves the saved key data fresh with SELECT, GET DATA 6E and GET DATA 0102; certificates are read once', async () => {
    const card = new OpenPgpSimulator();
    await provision(card);
    const cold = await logonInNewProcess(card);
    const warm = await logonInNewProcess(card);
    expect(warm.certificates).toEqual(cold.certificates);
    expect(warm.keys).toEqual(cold.keys);
    expect(warm.keys.size).toBe(1);
    // No GENERATE 47 81 (public key read) and no second 6E: cmapfile and the key come from the store.
    expect(warm.commands).toEqual([
      '00a40400', // SELECT
      '00ca006e', // the keys' witness
      '00ca0102', // our counters
      '00a50004', // the listing: occurrence 0, then GET NEXT DATA twice
      '00ca7f21',
      '00cc7f21',
      '00cc7f21',
      // The certificate the listing read is served from the plugin's cache for the rest of the transaction.
    ]);
    expect(warm.apdus).toBeLessThan(cold.apdus);
  });

  it('a key generated by another tool (fingerprint and date written, no counter) is seen by the next process', async () => {
    const card = new OpenPgpSimulator();
    await provision(card);
    const before = await logonInNewProcess(card);
    await foreignTool(card, async (app) => {
      await app.generateKeyPair(0);
      await app.writeFingerprint(
        0,
        Uint8Array.from({ length: 20 }, (_, index) => index + 1),
      );
      await app.writeGenerationTime(0, 1_700_000_000);
    });
    const after = await logonInNewProcess(card);
    expect(after.keys.get(0)).toBeDefined();
    expect(after.keys.get(0)).not.toBe(before.keys.get(0));
    expect(after.commands).toContain('00478100');
  });

  it('a certificate written by another tool (no trace in 6E or 0102) is returned, never the old one', async () => {
    const card = new OpenPgpSimulator();
    await provision(card, 'first');
    const before = await logonInNewProcess(card);
    const replacement = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07);
    await foreignTool(card, async (app) => app.writeCertificate(2, replacement));
    const after = await logonInNewProcess(card);
    expect(before.certificates.get('ksc00')).not.toBe(toHex(replacement));
    expect(after.certificates.get('ksc00')).toBeDefined();
    expect(after.certificates.get('ksc00')).not.toBe(before.certificates.get('ksc00'));
  });

  it('a write of ours bumps exactly its counter in DO 0102: certificate → files, key → containers, PIN → neither', async () => {
    const card = new OpenPgpSimulator();
    const counters = async () => {
      // The application is selected already: a SELECT would drop the session's PW3.
      const transport = new SimTransport(card);
      const app = new OpenPgpApplication(transport);
      const decoded = decodeCountersDo(await app.readPrivateUse(0x0102));
      await transport.close();
      return decoded;
    };
    expect(await counters()).toEqual({ kind: 'empty' });
    const session = await CardSession.open(plugin, new SimTransport(card), { cache: new DataCacheStore() });
    await session.authenticateEx(2, 0, PW3);
    await session.createContainer(0, 1, KeySpec.AT_SIGNATURE, 2048);
    expect(await counters()).toEqual({ kind: 'ours', counters: { containersFreshness: 1, filesFreshness: 0 } });
    await session.writeFile('mscp', 'ksc00', await certificateFor(session, 'ours'));
    expect(await counters()).toEqual({ kind: 'ours', counters: { containersFreshness: 1, filesFreshness: 1 } });
    await session.changeAuthenticator('user', text('123456'), text('654321'), 0, 2);
    expect(await counters()).toEqual({ kind: 'ours', counters: { containersFreshness: 1, filesFreshness: 1 } });
    // Another context sees our write through the counters.
    const cardcf = await session.readFile(null, 'cardcf');
    expect([...cardcf.subarray(2, 6)]).toEqual([1, 0, 1, 0]);
    await session.close();
  });

  it("someone else's data in DO 0102 is never overwritten; our counters then stay in the context", async () => {
    const card = new OpenPgpSimulator();
    const theirs = text('my notes');
    await foreignTool(card, async (app) => app.writePrivateUse(0x0102, theirs));
    const session = await CardSession.open(plugin, new SimTransport(card), { cache: new DataCacheStore() });
    await session.authenticateEx(2, 0, PW3);
    await session.createContainer(0, 1, KeySpec.AT_SIGNATURE, 2048);
    const transport = new SimTransport(card);
    const app = new OpenPgpApplication(transport);
    await app.selectApplication();
    expect(await app.readPrivateUse(0x0102)).toEqual(theirs);
    await transport.close();
    await session.close();
  });
});
