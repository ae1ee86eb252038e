/**
 * Regression tests of the hostile-input audit (issue #11) for the PIV plugin.
 */
import { constants, generateKeyPairSync, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import { encodeRsaPrivateKeyBlob, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  type ApduTraceEntry,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_PADDING_PKCS1,
  interceptTransmit,
  KeySpec,
  ROLE_ADMIN,
  ROLE_USER,
  reverseBytes,
  ScardError,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { encryptManagementChallenge, plugin } from './index.js';
import { makeTestCertificate } from './testing/test-certificate.js';

describe('PIV writeFile bounds (issue #11 item 8)', () => {
  it('refuses a 64 MB certificate file before decoding, compressing or sending anything', async () => {
    let apdus = 0;
    const transport = interceptTransmit(new SimTransport(new PivSimulator({ seed: 'hardening' })), (command, send) => {
      apdus++;
      return send(command);
    });
    const session = await CardSession.open(plugin, transport);
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    // Looks like DER (30 84 ...) so that nothing but its size can stop it; zeros gzip to almost nothing.
    const huge = new Uint8Array(64 * 1024 * 1024);
    huge.set([0x30, 0x84, 0x03, 0xff, 0xff, 0xfa]);
    const before = apdus;
    const error = await session.writeFile('mscp', 'kxc00', huge).catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')).toBe(true);
    expect((error as Error).message).toContain('at most 65535 bytes');
    // The session may read cardcf/freshness, but no certificate object went to the card.
    expect(apdus - before).toBeLessThanOrEqual(2);
  }, 60_000);
});

/** True when `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

/** A session whose trace entries and transmit buffers are kept, to look for secrets after the fact. */
async function openWatched() {
  const handed: Uint8Array[] = [];
  const transport = interceptTransmit(new SimTransport(new PivSimulator({ seed: 'hardening' })), (command, send) => {
    handed.push(command);
    return send(command);
  });
  const entries: ApduTraceEntry[] = [];
  const session = await CardSession.open(plugin, transport, { trace: (entry) => entries.push(entry) });
  const exposes = (secret: Uint8Array) =>
    handed.some((buffer) => contains(buffer, secret)) ||
    entries.some(
      (entry) => contains(entry.command, secret) || (entry.response !== undefined && contains(entry.response, secret)),
    );
  return { session, entries, exposes };
}

async function authenticateAdmin(session: CardSession): Promise<void> {
  const challenge = await session.getChallengeEx(ROLE_ADMIN);
  await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge));
}

describe('PIV secrets in traces and transmit buffers (issue #11 items 5, 6)', () => {
  it('SET MANAGEMENT KEY: the new key is in no trace entry and no buffer handed to transmit', async () => {
    const { session, entries, exposes } = await openWatched();
    const newKey = new Uint8Array(randomBytes(24));
    const change = await session.getChallengeEx(ROLE_ADMIN);
    await session.changeAuthenticatorEx(
      2,
      ROLE_ADMIN,
      encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, change),
      ROLE_ADMIN,
      newKey,
      0,
    );
    const set = entries.find((entry) => entry.command[1] === 0xff);
    expect(set?.redacted).toBe(true);
    expect(exposes(newKey)).toBe(false);
    await session.close();
  });

  it('IMPORT KEY: no part of the private key is in a trace entry or a transmit buffer', async () => {
    const { session, exposes } = await openWatched();
    await authenticateAdmin(session);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const b = (text: string | undefined) => new Uint8Array(Buffer.from(text as string, 'base64url'));
    const blob = encodeRsaPrivateKeyBlob(
      {
        modulus: b(rsa.n),
        publicExponent: b(rsa.e),
        privateExponent: b(rsa.d),
        prime1: b(rsa.p),
        prime2: b(rsa.q),
        exponent1: b(rsa.dp),
        exponent2: b(rsa.dq),
        coefficient: b(rsa.qi),
      },
      'keyExchange',
    );
    await session.createContainer(4, CARD_CREATE_CONTAINER_KEY_IMPORT, KeySpec.AT_KEYEXCHANGE, 0, blob);
    for (const part of [rsa.p, rsa.q, rsa.dp, rsa.dq, rsa.qi]) expect(exposes(b(part).subarray(0, 16))).toBe(false);
    await session.close();
  });

  it('decrypted plaintext is redacted in the trace and wiped from the raw response (item 6)', async () => {
    const { session, entries, exposes } = await openWatched();
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const rsaKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey as Uint8Array);
    await session.authenticateEx(ROLE_USER, 0, new TextEncoder().encode('123456'));
    const secret = new Uint8Array(randomBytes(32));
    const ciphertext = publicEncrypt({ key: rsaKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    const plain = await session.rsaDecrypt({
      version: 2,
      containerIndex: 0,
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

describe('PIV key generation never leaves a certificate of the old key (issue #11 item 1)', () => {
  it('a card pulled out right after GENERATE shows no certificate for a key the container no longer holds', async () => {
    const card = new PivSimulator({ seed: 'hardening-item-1' });
    const sent: Uint8Array[] = [];
    const transport = new SimTransport(card);
    const counting = interceptTransmit(transport, (command, send) => {
      sent.push(new Uint8Array(command));
      return send(command);
    });
    const session = await CardSession.open(plugin, counting);
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const oldKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey as Uint8Array);
    await session.writeFile('mscp', 'kxc00', await makeTestCertificate(oldKey, 'old key'));
    // Where GENERATE ASYMMETRIC KEY PAIR (INS 47) falls in a key generation of this container.
    const before = sent.length;
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const generate = sent.slice(before).findIndex((command) => command[1] === 0x47) + 1;
    expect(generate).toBeGreaterThan(0);
    const currentKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey as Uint8Array);
    await session.writeFile('mscp', 'kxc00', await makeTestCertificate(currentKey, 'current key'));
    transport.faults.setPlan({ removeAfterApdu: generate });
    const error = await session
      .createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048)
      .catch((caught: unknown) => caught);
    expect(ScardError.hasCode(error, 'SCARD_W_REMOVED_CARD'), String(error)).toBe(true);
    await transport.reinsert();
    await session.close();
    const after = await CardSession.open(plugin, new SimTransport(card));
    const held = publicKeyBlobToKeyObject((await after.getContainerInfo(0)).keyExchangePublicKey as Uint8Array);
    expect(
      held.export({ type: 'spki', format: 'der' }).equals(currentKey.export({ type: 'spki', format: 'der' })),
    ).toBe(false);
    const certificate = await after.readFile('mscp', 'kxc00').catch((caught: unknown) => caught);
    if (certificate instanceof Uint8Array) {
      const certified = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
      expect(certified.equals(held.export({ type: 'spki', format: 'der' }))).toBe(true);
    } else {
      expect(ScardError.hasCode(certificate, 'SCARD_E_FILE_NOT_FOUND'), String(certificate)).toBe(true);
    }
    await after.close();
  }, 60_000);
});

describe('an empty PIN is no PIN (issue #11 item 4, in the session)', () => {
  it('is refused without a card command and spends no try', async () => {
    let apdus = 0;
    const transport = interceptTransmit(new SimTransport(new PivSimulator({ seed: 'empty-pin' })), (command, send) => {
      apdus++;
      return send(command);
    });
    const session = await CardSession.open(plugin, transport);
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = apdus;
      const viaV4 = await session.authenticatePin('user', new Uint8Array(0)).catch((caught: unknown) => caught);
      expect(ScardError.hasCode(viaV4, 'SCARD_E_INVALID_PARAMETER'), String(viaV4)).toBe(true);
      const viaEx = await session.authenticateEx(ROLE_USER, 0, new Uint8Array(0)).catch((caught: unknown) => caught);
      expect(ScardError.hasCode(viaEx, 'SCARD_E_INVALID_PARAMETER'), String(viaEx)).toBe(true);
      // Reading PIN_INFO may cost nothing or a SELECT; no VERIFY is sent.
      expect(apdus - before).toBeLessThanOrEqual(2);
    }
    const wrong = await session
      .authenticatePin('user', new TextEncoder().encode('000000'))
      .catch((caught: unknown) => caught);
    expect((wrong as ScardError).retriesLeft).toBe(2);
    await session.authenticatePin('user', new TextEncoder().encode('123456'));
    await session.close();
  });
});
