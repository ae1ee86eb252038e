/**
 * Regression tests of the hostile-card audit (issue #11) for the OpenPGP plugin.
 */
import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { encodeEccPrivateKeyBlob, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  type ApduTraceEntry,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_PADDING_PKCS1,
  CardProperty,
  interceptTransmit,
  KeySpec,
  ROLE_ADMIN,
  ROLE_USER,
  reverseBytes,
  ScardError,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin, RESETTING_CODE_PIN_ID } from './index.js';

const text = (value: string) => new TextEncoder().encode(value);
const PW1 = text('123456');
const PW3 = text('12345678');

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

/** A session whose trace entries and transmit buffers are kept, to look for secrets after the fact. */
async function openWatched() {
  const handed: Uint8Array[] = [];
  const transport = interceptTransmit(new SimTransport(new OpenPgpSimulator()), (command, send) => {
    handed.push(command);
    return send(command);
  });
  const entries: ApduTraceEntry[] = [];
  const session = await CardSession.open(plugin, transport, { version: 7, trace: (entry) => entries.push(entry) });
  const exposes = (secret: Uint8Array) =>
    handed.some((buffer) => contains(buffer, secret)) ||
    entries.some(
      (entry) => contains(entry.command, secret) || (entry.response !== undefined && contains(entry.response, secret)),
    );
  return { session, entries, exposes };
}

describe('OpenPGP secrets in traces and transmit buffers (issue #11 items 5, 6)', () => {
  it('PUT DATA D3: the new Resetting Code is in no trace entry and no transmit buffer', async () => {
    const { session, entries, exposes } = await openWatched();
    const code = text('73920461');
    await session.changeAuthenticatorEx(2, ROLE_ADMIN, PW3, RESETTING_CODE_PIN_ID, code, 0);
    expect(entries.find((entry) => entry.command[1] === 0xda && entry.command[3] === 0xd3)?.redacted).toBe(true);
    expect(exposes(text('73920461'))).toBe(false);
    await session.close();
  });

  it('PUT DATA 4D: the imported private scalar is in no trace entry and no transmit buffer', async () => {
    const { session, exposes } = await openWatched();
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const coordinate = (value: string | undefined) => new Uint8Array(Buffer.from(value as string, 'base64url'));
    const d = coordinate(jwk.d);
    const blob = encodeEccPrivateKeyBlob({ curve: 'P-256', x: coordinate(jwk.x), y: coordinate(jwk.y), d }, 'ecdh');
    await session.authenticatePin('admin', PW3);
    await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_IMPORT, KeySpec.AT_ECDHE_P256, 0, blob);
    expect(exposes(d.subarray(0, 16))).toBe(false);
    await session.close();
  });

  it('PSO:DECIPHER plaintext is redacted in the trace (item 6)', async () => {
    const { session, entries, exposes } = await openWatched();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const info = await session.getContainerInfo(1);
    const publicKey = publicKeyBlobToKeyObject(info.keyExchangePublicKey as Uint8Array);
    const secret = new Uint8Array(randomBytes(32));
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    await session.authenticatePin('user', PW1);
    const plain = await session.rsaDecrypt({
      version: 2,
      containerIndex: 1,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      data: reverseBytes(new Uint8Array(ciphertext)),
      paddingType: CARD_PADDING_PKCS1,
    });
    expect(reverseBytes(plain)).toEqual(secret);
    expect(exposes(secret)).toBe(false);
    expect(entries.some((entry) => entry.responseRedacted === true)).toBe(true);
    await session.close();
  });
});

describe('an empty PIN is no PIN (issue #11 item 4)', () => {
  async function openRecorded() {
    const commands: Uint8Array[] = [];
    const transport = interceptTransmit(new SimTransport(new OpenPgpSimulator()), (command, send) => {
      commands.push(new Uint8Array(command));
      return send(command);
    });
    const session = await CardSession.open(plugin, transport, { version: 7 });
    return { session, commands };
  }
  const emptyVerifies = (commands: readonly Uint8Array[]) =>
    commands.filter((command) => command[1] === 0x20 && command.length <= 5 && command[2] === 0x00).length;

  it('is refused when PW1 is already verified, without sending an empty VERIFY', async () => {
    const { session, commands } = await openRecorded();
    await session.authenticatePin('user', new Uint8Array(PW1));
    const before = commands.length;
    const error = await session.authenticatePin('user', new Uint8Array(0)).catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
    expect(emptyVerifies(commands.slice(before))).toBe(0);
    await session.close();
  });

  it('is refused (not WRONG_CHV) when PW1 is not verified, and spends no try', async () => {
    const { session } = await openRecorded();
    for (const pinId of [ROLE_USER, ROLE_ADMIN] as const) {
      const error = await session.authenticateEx(pinId, 0, new Uint8Array(0)).catch((caught: unknown) => caught);
      expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER'), String(error)).toBe(true);
    }
    const info = await session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER);
    expect(info).toBeDefined();
    await session.authenticatePin('user', new Uint8Array(PW1));
    await session.close();
  });
});

describe('certificates follow their keys (issue #11 item 2)', () => {
  const CERTIFICATE = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07);

  async function withKeyAndCertificate() {
    const card = new OpenPgpSimulator();
    const transport = new SimTransport(card);
    const session = await CardSession.open(plugin, transport, { version: 7 });
    await session.authenticatePin('admin', new Uint8Array(PW3));
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    await session.writeFile('mscp', 'ksc00', CERTIFICATE);
    return { card, transport, session };
  }

  async function expectNoCertificate(session: CardSession) {
    const error = await session.readFile('mscp', 'ksc00').catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND'), String(error)).toBe(true);
    expect(await session.enumFiles('mscp')).not.toContain('ksc00');
  }

  it('a new key in a container removes the certificate of the old one', async () => {
    const { session } = await withKeyAndCertificate();
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    await expectNoCertificate(session);
    await session.close();
  });

  it('deleting a container deletes its certificate', async () => {
    const { session } = await withKeyAndCertificate();
    await session.deleteContainer(0);
    await expectNoCertificate(session);
    await session.close();
  });

  it('a GENERATE interrupted by removal leaves an empty slot for us as for GnuPG, and no stale certificate', async () => {
    const { card, transport, session } = await withKeyAndCertificate();
    // Where GENERATE (47 80) falls in a key generation of this container.
    const sent: Uint8Array[] = [];
    const counting = interceptTransmit(new SimTransport(card), (command, send) => {
      sent.push(new Uint8Array(command));
      return send(command);
    });
    const probe = await CardSession.open(plugin, counting, { version: 7 });
    await probe.authenticatePin('admin', new Uint8Array(PW3));
    const before = sent.length;
    await probe.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    const generate = sent.slice(before).findIndex((command) => command[1] === 0x47 && command[2] === 0x80) + 1;
    expect(generate).toBeGreaterThan(0);
    await probe.writeFile('mscp', 'ksc00', CERTIFICATE);
    await probe.close();
    transport.faults.setPlan({ removeAfterApdu: generate });
    const error = await session
      .createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048)
      .catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_W_REMOVED_CARD'), String(error)).toBe(true);
    await transport.reinsert();
    await session.close();
    const after = await CardSession.open(plugin, new SimTransport(card), { version: 7 });
    const info = await after.getContainerInfo(0).catch((caught: unknown) => caught);
    expect(ScardError.hasCode(info, 'SCARD_E_NO_KEY_CONTAINER'), String(info)).toBe(true);
    await expectNoCertificate(after);
    await after.close();
  });
});
