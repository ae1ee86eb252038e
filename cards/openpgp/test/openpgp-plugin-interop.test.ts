/**
 * Interop of OUR PLUGIN with the real OpenPGP clients: the OpenPGP simulator is served into pcscd through
 * vpcd ("Virtual PCD 00 01", port 35964), and the plugin generates keys on it through PC/SC
 * (@minidriver/pcsc), as an application would. Then, with the plugin gone, the real clients read the card:
 * - GnuPG's `gpg --card-status` shows both keys complete: algorithm attributes, the v4 fingerprints and
 *   the generation date the plugin wrote (issue: "a key the plugin generates is a complete OpenPGP key on
 *   the card ... so GnuPG's --card-status shows it");
 * - OpenSC (openpgp-tool, pkcs15-tool) lists the same keys, and hands out the same public keys;
 * - gpg builds an OpenPGP key around the card's signature key (batch Key-Grip + the card's creation date),
 *   computes its fingerprint itself (it equals what the plugin wrote), and signs with it on the card.
 * The expected fingerprints are computed here from the public keys the plugin returned (getContainerInfo),
 * with our own v4 packet encoder below (RFC 4880 §5.5.2, §12.2; RFC 6637 §9), not the plugin's.
 * Skipped with a reason when pcscd or a tool is missing; with CI=true a missing tool fails the run.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { serveVpcdForSuite } from '@minidriver/sim/testing';
import { CARD_CREATE_CONTAINER_KEY_GEN, KeySpec } from '@minidriver/spec';
import { beforeAll, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { OpenPgpApplication, plugin } from '../src/index.js';
import {
  describeInterop,
  gnupgHomeForSuite,
  gpgDetachSign,
  gpgVerify,
  PORT,
  READER,
  run,
  waitForOpenPgpCard,
  withPluginSession,
  withReaderConnection,
} from './interop-support.js';

/** The simulator's factory PINs (OpenPGP card defaults). */
const PW1 = '123456';
const PW3 = '12345678';
const SERIAL = 0x24681357;

const base64UrlBytes = (value: string | undefined) => new Uint8Array(Buffer.from(value ?? '', 'base64url'));

/** An OpenPGP MPI: 2-byte big-endian bit count, then the magnitude without leading zero bytes. */
function mpi(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.subarray(start);
  const bits = (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] ?? 0));
  return Buffer.concat([Buffer.from([bits >> 8, bits & 0xff]), bytes]);
}

/** OID of NIST P-256 without its DER tag and length (RFC 6637 §11). */
const P256_OID = Buffer.from('2a8648ce3d030107', 'hex');

/**
 * The v4 fingerprint of `key` created at `creationTime`: SHA-1(99 ‖ length ‖ 04 ‖ time ‖ algorithm ‖
 * material) with RSA (1: n, e) or ECDSA (19: OID, point 04 ‖ x ‖ y). Written independently of the plugin.
 */
function openPgpFingerprint(key: KeyObject, creationTime: number): string {
  const jwk = key.export({ format: 'jwk' });
  const header = Buffer.alloc(5);
  header[0] = 4;
  header.writeUInt32BE(creationTime, 1);
  let body: Buffer;
  if (jwk.kty === 'RSA') {
    body = Buffer.concat([header, Buffer.from([1]), mpi(base64UrlBytes(jwk.n)), mpi(base64UrlBytes(jwk.e))]);
  } else {
    expect(jwk.crv).toBe('P-256');
    const point = Buffer.concat([Buffer.from([4]), base64UrlBytes(jwk.x), base64UrlBytes(jwk.y)]);
    body = Buffer.concat([header, Buffer.from([19, P256_OID.length]), P256_OID, mpi(point)]);
  }
  const prefix = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  return createHash('sha1').update(prefix).update(body).digest('hex').toUpperCase();
}

/** How gpg 2.2 prints a v4 fingerprint in --card-status: ten groups of four, two spaces in the middle. */
function gpgFormat(fingerprint: string): string {
  const groups = fingerprint.match(/.{4}/g) ?? [];
  return `${groups.slice(0, 5).join(' ')}  ${groups.slice(5).join(' ')}`;
}

const spkiOf = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/** gpg's isotimestamp (UTC): 2026-11-24 21:40:12. */
const gpgDate = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');

describeInterop(`OpenPGP plugin-generated keys seen by GnuPG and OpenSC (${READER})`, [], () => {
  const card = new OpenPgpSimulator({ serial: SERIAL, pw1: PW1, pw3: PW3 });
  let signatureKey: KeyObject;
  let authenticationKey: KeyObject;
  /** Unix seconds around the plugin's key generation: the generation dates must fall inside. */
  let generatedAfter = 0;
  let generatedBefore = 0;
  /** The fingerprints in C5 as the plugin's own application layer reads them back (hex, upper case). */
  let cardFingerprints: string[] = [];

  // Every package's vpcd tests on this port take turns; we hold the reader for the whole file.
  serveVpcdForSuite(card, {
    port: PORT,
    // Wait until pcscd has polled the reader and powered the card.
    ready: async () => {
      const atr = await waitForOpenPgpCard(80);
      expect(atr, `the simulated card never showed up in ${READER}`).toContain('3b:da:18:ff');
    },
    setupTimeoutMs: 600_000,
  });
  // Made in beforeAll: a skipped suite still runs this body, and would leave the directory behind.
  const gnupg = gnupgHomeForSuite('openpgp-plugin-interop-');

  beforeAll(async () => {
    // The plugin, through PC/SC: PW3, RSA 2048 for the signature key (container 0), P-256 for the
    // authentication key (container 2). Container 1 (decryption) stays empty.
    await withPluginSession(plugin, async (session) => {
      await session.authenticatePin('admin', new TextEncoder().encode(PW3));
      generatedAfter = Math.floor(Date.now() / 1000);
      await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
      await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
      generatedBefore = Math.ceil(Date.now() / 1000);
      signatureKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).signaturePublicKey!);
      authenticationKey = publicKeyBlobToKeyObject((await session.getContainerInfo(2)).signaturePublicKey!);
    });
    expect(signatureKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(authenticationKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    // C5 read back through the plugin's application layer, on a fresh PC/SC connection.
    await withReaderConnection(async (connection) => {
      const application = new OpenPgpApplication(connection);
      await application.selectApplication();
      const data = await application.readApplicationData();
      cardFingerprints = data.fingerprints.map((bytes) => Buffer.from(bytes).toString('hex').toUpperCase());
    });
  }, 600_000);

  /** What `gpg --card-status --with-colons` reports per slot (SIG, DEC, AUT). */
  async function readCardStatus(): Promise<{ fingerprints: string[]; times: number[]; keygrips: string[] }> {
    const colons = await run('gpg', ['--batch', '--with-colons', '--card-status'], gnupg.env);
    expect(colons.code, colons.stderr).toBe(0);
    const fields = (tag: string) => {
      const line = colons.stdout.split('\n').find((candidate) => candidate.startsWith(`${tag}:`));
      expect(line, `no ${tag} line in\n${colons.stdout}`).toBeDefined();
      return line!.split(':').slice(1, 4);
    };
    return { fingerprints: fields('fpr'), times: fields('fprtime').map(Number), keygrips: fields('grp') };
  }

  /** The card's signature counter (93) as gpg reads it: `sigcount:<n>:::`. */
  async function readSignatureCounter(): Promise<number> {
    const colons = await run('gpg', ['--batch', '--with-colons', '--card-status'], gnupg.env);
    const count = /^sigcount:(\d+):/m.exec(colons.stdout)?.[1];
    expect(count, colons.stdout + colons.stderr).toBeDefined();
    return Number(count);
  }

  it('gpg --card-status shows both keys: attributes, fingerprints and the generation date the plugin wrote', async () => {
    // fpr:<SIG>:<DEC>:<AUT>: (an empty slot is empty) and fprtime:<SIG>:<DEC>:<AUT>: (unix seconds).
    const { fingerprints, times } = await readCardStatus();
    const signatureTime = times[0]!;
    const authenticationTime = times[2]!;
    expect(times[1]).toBe(0);
    for (const time of [signatureTime, authenticationTime]) {
      expect(time).toBeGreaterThanOrEqual(generatedAfter);
      expect(time).toBeLessThanOrEqual(generatedBefore);
    }
    const expectedSignature = openPgpFingerprint(signatureKey, signatureTime);
    const expectedAuthentication = openPgpFingerprint(authenticationKey, authenticationTime);
    expect(fingerprints).toEqual([expectedSignature, '', expectedAuthentication]);
    expect(cardFingerprints).toEqual([expectedSignature, '00'.repeat(20), expectedAuthentication]);

    const status = await run('gpg', ['--card-status'], gnupg.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`Serial number \\.+: ${SERIAL.toString(16).toUpperCase().padStart(8, '0')}`),
    );
    expect(status.stdout).toMatch(/Key attributes \.+: rsa2048 rsa2048 nistp256/);
    const lines = status.stdout.split('\n');
    const lineAfter = (label: RegExp) => lines[lines.findIndex((line) => label.test(line)) + 1] ?? '';
    expect(status.stdout).toContain(`Signature key ....: ${gpgFormat(expectedSignature)}`);
    expect(lineAfter(/^Signature key/)).toBe(`      created ....: ${gpgDate(signatureTime)}`);
    expect(status.stdout).toMatch(/Encryption key\.\.\.\.: \[none\]/);
    expect(status.stdout).toContain(`Authentication key: ${gpgFormat(expectedAuthentication)}`);
    expect(lineAfter(/^Authentication key/)).toBe(`      created ....: ${gpgDate(authenticationTime)}`);
    // "today": the date gpg prints is the day the plugin generated the keys (UTC; either side of midnight).
    const generationDays = [generatedAfter, generatedBefore].map((time) => gpgDate(time).slice(0, 10));
    expect(generationDays).toContain(gpgDate(signatureTime).slice(0, 10));
  }, 120_000);

  it('OpenSC (openpgp-tool, pkcs15-tool) lists the same keys and reads the same public keys', async () => {
    const { fingerprints, times } = await readCardStatus();
    // scdaemon keeps the reader after gpg: stop it (with its agent, which would otherwise talk to a dead
    // scdaemon next time) so OpenSC can connect.
    await run('gpgconf', ['--kill', 'all'], gnupg.env);
    const colonHex = (hex: string) => hex.toLowerCase().match(/../g)!.join(':');

    // TZ=UTC: openpgp-tool prints the dates in local time.
    const keyInfo = await run('openpgp-tool', ['--reader', READER, '--key-info'], { ...process.env, TZ: 'UTC' });
    expect(keyInfo.code, keyInfo.stderr).toBe(0);
    expect(keyInfo.stdout).toMatch(/Sig Algorithm:\s+RSA2048/);
    expect(keyInfo.stdout).toMatch(new RegExp(`Sig Create Date:\\s+${gpgDate(times[0]!)}`));
    expect(keyInfo.stdout).toMatch(new RegExp(`Sig Fingerprint:\\s+${colonHex(fingerprints[0]!)}`));
    expect(keyInfo.stdout).toMatch(/Aut Algorithm:\s+ECDSA/);
    expect(keyInfo.stdout).toMatch(new RegExp(`Aut Create Date:\\s+${gpgDate(times[2]!)}`));
    expect(keyInfo.stdout).toMatch(new RegExp(`Aut Fingerprint:\\s+${colonHex(fingerprints[2]!)}`));
    expect(keyInfo.stdout).toMatch(new RegExp(`Dec Fingerprint:\\s+${colonHex('00'.repeat(20))}`));

    const listed = await run('pkcs15-tool', ['--reader', READER, '--list-public-keys']);
    expect(listed.code, listed.stderr).toBe(0);
    const objects = listed.stdout.split(/\n(?=Public )/);
    expect(objects).toHaveLength(2);
    expect(objects[0]).toMatch(/^Public RSA Key \[Signature key\]/);
    expect(objects[0]).toMatch(/ModLength\s+: 2048\n/);
    expect(objects[0]).toMatch(/ID\s+: 01\n/);
    expect(objects[1]).toMatch(/^Public EC Key \[Authentication key\]/);
    expect(objects[1]).toMatch(/FieldLength\s+: 256\n/);
    expect(objects[1]).toMatch(/ID\s+: 03\n/);

    // The public keys OpenSC hands out are the ones the plugin returned, byte for byte (SPKI).
    for (const [id, key] of [
      ['01', signatureKey],
      ['03', authenticationKey],
    ] as const) {
      const read = await run('pkcs15-tool', ['--reader', READER, '--read-public-key', id]);
      expect(read.code, read.stderr).toBe(0);
      expect(spkiOf(createPublicKey(read.stdout))).toEqual(spkiOf(key));
    }
  }, 120_000);

  it('gpg makes an OpenPGP key of the card signature key with the same fingerprint, and signs with it', async () => {
    const { fingerprints, times, keygrips } = await readCardStatus();
    // Batch key generation around an existing key (Key-Grip) created at the card's generation date:
    // gpg computes the fingerprint itself and self-signs on the card (PW1 through loopback pinentry).
    const creationDate = new Date(times[0]! * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const parameters = join(gnupg.home, 'keygen.txt');
    writeFileSync(
      parameters,
      [
        'Key-Type: RSA',
        `Key-Grip: ${keygrips[0]}`,
        'Key-Usage: sign',
        'Name-Real: Plugin Generated',
        'Name-Email: plugin@example.org',
        'Expire-Date: 0',
        `Creation-Date: ${creationDate}`,
        '%commit',
        '',
      ].join('\n'),
    );
    const generated = await run(
      'gpg',
      ['--batch', '--status-fd', '1', '--pinentry-mode', 'loopback', '--passphrase', PW1, '--gen-key', parameters],
      gnupg.env,
    );
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(new RegExp(`KEY_CREATED P ${fingerprints[0]}`));
    expect(fingerprints[0]).toBe(openPgpFingerprint(signatureKey, times[0]!));

    const countBefore = await readSignatureCounter();
    expect(countBefore).toBeGreaterThan(0);
    const message = join(gnupg.home, 'message.txt');
    writeFileSync(message, 'signed by GnuPG with a key our plugin generated\n');
    const signed = await gpgDetachSign(gnupg.env, fingerprints[0]!, message, { value: PW1 });
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await gpgVerify(gnupg.env, message);
    expect(verified.stdout, verified.stderr).toMatch(/\[GNUPG:\] GOODSIG/);
    expect(verified.stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fingerprints[0]} `));
    // The card counted the file's signature (key generation made some before: self-signature, revocation).
    expect(await readSignatureCounter()).toBe(countBefore + 1);
  }, 180_000);
});
