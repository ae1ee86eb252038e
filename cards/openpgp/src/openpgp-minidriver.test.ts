/**
 * The OpenPGP plugin end to end: CardSession → plugin → SimTransport → OpenPgpSimulator. Signatures and
 * decryptions are checked with node:crypto against the public keys the plugin reports.
 */
import {
  constants,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import {
  decodeContainerMap,
  ecdsaRawToDer,
  encodeEccPrivateKeyBlob,
  encodeEccPublicKeyBlob,
  publicKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CacheMode,
  CalgHash,
  CardProperty,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  createPinSet,
  KeySpec,
  PIN_CHANGE_FLAG_UNBLOCK,
  PinCachePolicyType,
  ROLE_ADMIN,
  ROLE_USER,
  reverseBytes,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from '../sim/index.js';
import { plugin, RESETTING_CODE_PIN_ID, SIGNATURE_PIN_ID } from './index.js';

const text = (value: string) => new TextEncoder().encode(value);
const PW1 = text('123456');
const PW3 = text('12345678');
const RESETTING_CODE = text('87654321');

async function openCard(options: ConstructorParameters<typeof OpenPgpSimulator>[0] = {}) {
  const card = new OpenPgpSimulator(options);
  const session = await CardSession.open(plugin, new SimTransport(card), { version: 7 });
  return { card, session };
}

async function expectScardError(promise: Promise<unknown>, code: string): Promise<ScardError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ScardError.isInstance(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as ScardError).name).toBe(code);
  return error as ScardError;
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

describe('OpenPGP plugin: context and files', () => {
  it('opens with the card in GLOBAL cache mode and synthesizes cardid from the AID', async () => {
    const { card, session } = await openCard({ serial: 0x01020304, manufacturer: 0x0006 });
    expect(session.cacheMode).toBe(CacheMode.GLOBAL_CACHE);
    const cardId = await session.readFile(null, 'cardid');
    const expected = card.applicationIdentifier;
    expected[6] = 0;
    expected[7] = 0;
    expect(cardId).toEqual(expected);
    expect(await session.getProperty('Card Identifier')).toEqual(cardId);
    expect(await session.getProperty('Card Serial Number')).toEqual(Uint8Array.of(0x00, 0x06, 0x01, 0x02, 0x03, 0x04));
    // Zero counters (DO 0102 empty), then the 32-byte witness of the keys in 6E.
    const cardcf = await session.readFile(null, 'cardcf');
    expect(cardcf.subarray(0, 6)).toEqual(new Uint8Array(6));
    expect(cardcf.length).toBe(38);
    // "mscp" + 4 zero bytes (docs/spec/minidriver.md §4.3).
    expect(await session.readFile(null, 'cardapps')).toEqual(Uint8Array.of(0x6d, 0x73, 0x63, 0x70, 0, 0, 0, 0));
    await session.close();
  });

  it('works for CARD_DATA 4 callers, which cache globally and bump cardcf after their writes', async () => {
    const card = new OpenPgpSimulator();
    const session = await CardSession.open(plugin, new SimTransport(card), { version: 4 });
    expect(session.version).toBe(4);
    await session.authenticatePin('admin', PW3);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    const cardcf = await session.readFile(null, 'cardcf');
    // wContainersFreshness (bytes 2-3, little-endian) moved from 0.
    expect(cardcf[2]! | (cardcf[3]! << 8)).toBeGreaterThan(0);
    expect((await session.getContainerInfo(2)).signaturePublicKey).toBeDefined();
    await session.close();
  });

  it('lists the file system: root files, cmapfile, and certificate files only when 7F21 holds one', async () => {
    const { session } = await openCard();
    expect(await session.enumFiles(null)).toEqual(['cardid', 'cardcf', 'cardapps']);
    expect(await session.enumFiles('mscp')).toEqual(['cmapfile']);
    // A fresh card has no keys: three empty records.
    const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    expect(records.map((record) => record.flags)).toEqual([0, 0, 0]);
    await expectScardError(session.readFile('mscp', 'ksc00'), 'SCARD_E_FILE_NOT_FOUND');
    await expectScardError(session.getContainerInfo(0), 'SCARD_E_NO_KEY_CONTAINER');
    await session.close();
  });

  it('reports properties', async () => {
    const { session } = await openCard();
    expect(await session.getProperty('Read Only Mode')).toBe(false);
    expect(await session.getProperty('Capabilities')).toEqual({ certificateCompression: true, keyGeneration: true });
    expect(await session.getProperty('PIN List')).toBe(createPinSet(1, 2, 3, 4));
    const user = await session.getProperty('PIN Information', ROLE_USER);
    expect(user.pinType).toBe(SecretType.AlphaNumericPinType);
    expect(user.unblockPermission).toBe(createPinSet(ROLE_ADMIN, RESETTING_CODE_PIN_ID));
    const admin = await session.getProperty('PIN Information', ROLE_ADMIN);
    expect(admin).toMatchObject({ pinType: SecretType.AlphaNumericPinType, purpose: SecretPurpose.AdministratorPin });
    // The simulator's C4 byte 1 is 00: PW1 is good for one signature → always prompt.
    const signature = await session.getProperty('PIN Information', SIGNATURE_PIN_ID);
    expect(signature.purpose).toBe(SecretPurpose.DigitalSignaturePin);
    expect(signature.cachePolicy.type).toBe(PinCachePolicyType.PinCacheAlwaysPrompt);
    expect(await session.getContainerProperty(0, 'PIN Identifier')).toBe(SIGNATURE_PIN_ID);
    expect(await session.getContainerProperty(1, 'PIN Identifier')).toBe(ROLE_USER);
    expect(await session.queryKeySizes(KeySpec.AT_SIGNATURE)).toMatchObject({
      minimumBitLength: 2048,
      maximumBitLength: 4096,
    });
    expect(await session.getProperty('Authenticated State')).toBe(0);
    await session.authenticatePin('user', PW1);
    expect(await session.getProperty('Authenticated State')).toBe(createPinSet(ROLE_USER, SIGNATURE_PIN_ID));
    await session.close();
  });
});

describe('OpenPGP plugin: PINs', () => {
  it('wrong PW1 → SCARD_W_WRONG_CHV with the retries left, then blocked, then unblocked with PW3', async () => {
    const { session } = await openCard();
    const wrong = text('654321');
    expect((await expectScardError(session.authenticatePin('user', wrong), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(2);
    expect((await expectScardError(session.authenticatePin('user', wrong), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(1);
    expect((await expectScardError(session.authenticatePin('user', wrong), 'SCARD_W_CHV_BLOCKED')).retriesLeft).toBe(0);
    await expectScardError(session.authenticatePin('user', PW1), 'SCARD_W_CHV_BLOCKED');
    const newPin = text('246810');
    await session.changeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, ROLE_ADMIN, PW3, ROLE_USER, newPin);
    await session.authenticatePin('user', newPin);
    await session.close();
  });

  it('CP_PIN_RETRIES_LEFT (our vendor property) reads the C4 counters without spending a try', async () => {
    const { session } = await openCard();
    const retriesLeft = (pinId: number) => session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, pinId);
    // Fresh simulator: PW1 3, no Resetting Code (C4 byte 6 = 0), PW3 3.
    expect(await retriesLeft(ROLE_USER)).toBe(3);
    expect(await retriesLeft(ROLE_ADMIN)).toBe(3);
    expect(await retriesLeft(RESETTING_CODE_PIN_ID)).toBe(0);
    await expectScardError(session.authenticateEx(ROLE_USER, 0, text('000000')), 'SCARD_W_WRONG_CHV');
    expect(await retriesLeft(ROLE_USER)).toBe(2);
    expect(await retriesLeft(SIGNATURE_PIN_ID)).toBe(2); // the signature PIN is PW1 too
    expect(await retriesLeft(ROLE_USER)).toBe(2); // reading did not spend a try
    await expectScardError(session.authenticateEx(ROLE_ADMIN, 0, text('00000000')), 'SCARD_W_WRONG_CHV');
    expect(await retriesLeft(ROLE_ADMIN)).toBe(2);
    await expectScardError(retriesLeft(5), 'SCARD_E_INVALID_PARAMETER');
    await expectScardError(
      session.setProperty(CardProperty.CP_PIN_RETRIES_LEFT, 3, ROLE_USER),
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
    await session.close();
  });

  it('unblocks PW1 with the Resetting Code (RESET RETRY COUNTER P1 00)', async () => {
    const { session } = await openCard({ resetCode: '87654321' });
    for (let attempt = 0; attempt < 3; attempt++) {
      await session.authenticatePin('user', text('000000')).catch(() => undefined);
    }
    await expectScardError(session.authenticatePin('user', PW1), 'SCARD_W_CHV_BLOCKED');
    const wrongCode = await expectScardError(
      session.unblockPin('user', text('11111111'), PW1, 0, 2 /* CARD_AUTHENTICATE_PIN_PIN */),
      'SCARD_W_WRONG_CHV',
    );
    expect(wrongCode.retriesLeft).toBe(2);
    await session.unblockPin('user', RESETTING_CODE, text('135790'), 0, 2);
    await session.authenticatePin('user', text('135790'));
    await session.close();
  });

  it('authenticates the admin with PW3 and changes PW1', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.changeAuthenticator('user', PW1, text('999999'), 0, 2);
    await expectScardError(session.authenticatePin('user', PW1), 'SCARD_W_WRONG_CHV');
    await session.authenticatePin('user', text('999999'));
    await session.close();
  });
});

describe('OpenPGP plugin: keys', () => {
  it('generates RSA 2048 in container 0 and signs (PSO:CDS, PKCS #1 v1.5 over a DigestInfo)', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    const info = await session.getContainerInfo(0);
    expect(info.signaturePublicKey).toBeDefined();
    expect(info.keyExchangePublicKey).toBeUndefined();
    const publicKey = publicKeyBlobToKeyObject(info.signaturePublicKey as Uint8Array);
    const message = text('signed by the OpenPGP card');
    await session.authenticatePin('user', PW1);
    const { signature } = await session.signData({
      version: 1,
      containerIndex: 0,
      keySpec: KeySpec.AT_SIGNATURE,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: sha256(message),
    });
    expect(signature).toHaveLength(256);
    // Little-endian at the interface: reverse for node:crypto.
    expect(verify('sha256', message, publicKey, reverseBytes(signature as Uint8Array))).toBe(true);
    // C4 byte 1 = 00: the access state 81 was spent by that signature.
    await expectScardError(
      session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: 0,
        hashAlgorithmId: CalgHash.CALG_SHA_256,
        data: sha256(message),
      }),
      'SCARD_W_SECURITY_VIOLATION',
    );
    // The signature PIN (3) re-grants it.
    await session.authenticateEx(SIGNATURE_PIN_ID, 0, PW1);
    await session.signData({
      version: 2,
      containerIndex: 0,
      keySpec: KeySpec.AT_SIGNATURE,
      signingFlags: CARD_PADDING_INFO_PRESENT,
      hashAlgorithmId: 0,
      paddingType: CARD_PADDING_PKCS1,
      paddingInfo: { algorithm: 'SHA256' },
      data: sha256(message),
    });
    await expectScardError(
      session.signData({
        version: 2,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        hashAlgorithmId: 0,
        paddingType: CARD_PADDING_PSS,
        paddingInfo: { algorithm: 'SHA256', saltLength: 32 },
        data: sha256(message),
      }),
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
    const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    expect(records[0]).toMatchObject({ flags: CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER });
    expect(records[0]?.signatureKeySizeBits).toBe(2048);
    await session.close();
  });

  it('writes the fingerprint and generation date so GnuPG sees a complete key', async () => {
    const { card, session } = await openCard();
    await session.authenticatePin('admin', PW3);
    const before = Math.floor(Date.now() / 1000);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    const state = card.saveState().dataObjects;
    const time = Number.parseInt(state.generationTimes[2] as string, 16);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(state.fingerprints[2]).not.toBe('00'.repeat(20));
    // Recompute the v4 fingerprint independently from the public key (RFC 4880 §12.2, RFC 6637 §9).
    const info = await session.getContainerInfo(2);
    const jwk = publicKeyBlobToKeyObject(info.signaturePublicKey as Uint8Array).export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x as string, 'base64url'),
      Buffer.from(jwk.y as string, 'base64url'),
    ]);
    const oid = Buffer.from('2a8648ce3d030107', 'hex');
    const body = Buffer.concat([
      Buffer.of(4, time >>> 24, (time >>> 16) & 0xff, (time >>> 8) & 0xff, time & 0xff, 19, oid.length),
      oid,
      Buffer.of(0x02, 0x03), // 515 bits: 04 prefix byte has its top bit at position 3
      point,
    ]);
    const header = Buffer.of(0x99, body.length >> 8, body.length & 0xff);
    const fingerprint = createHash('sha1').update(header).update(body).digest('hex');
    expect(state.fingerprints[2]).toBe(fingerprint);
    await session.close();
  });

  it('generates P-256 in container 2 and signs with INTERNAL AUTHENTICATE (r ‖ s big-endian)', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    const info = await session.getContainerInfo(2);
    const publicKey = publicKeyBlobToKeyObject(info.signaturePublicKey as Uint8Array);
    await session.authenticatePin('user', PW1);
    const message = text('ssh login');
    const { signature } = await session.signData({
      version: 1,
      containerIndex: 2,
      keySpec: KeySpec.AT_ECDSA_P256,
      signingFlags: 0,
      hashAlgorithmId: 0,
      data: sha256(message),
    });
    expect(signature).toHaveLength(64);
    expect(verify('sha256', message, publicKey, ecdsaRawToDer(signature as Uint8Array))).toBe(true);
    const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    expect(records[2]?.flags).toBe(CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER);
    await expectScardError(
      session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048),
      'SCARD_E_INVALID_PARAMETER',
    );
    await session.close();
  });

  it('decrypts with the RSA key of container 1 (PKCS #1 removed on card, and the raw block rebuilt)', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const info = await session.getContainerInfo(1);
    expect(info.signaturePublicKey).toBeUndefined();
    const publicKey = publicKeyBlobToKeyObject(info.keyExchangePublicKey as Uint8Array);
    const secret = randomBytes(32);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    await session.authenticatePin('user', PW1);
    const plain = await session.rsaDecrypt({
      version: 2,
      containerIndex: 1,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      data: reverseBytes(new Uint8Array(ciphertext)),
      paddingType: CARD_PADDING_PKCS1,
    });
    expect(reverseBytes(plain)).toEqual(new Uint8Array(secret));
    const raw = reverseBytes(
      await session.rsaDecrypt({
        version: 2,
        containerIndex: 1,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: reverseBytes(new Uint8Array(ciphertext)),
        paddingType: CARD_PADDING_NONE,
      }),
    );
    expect(raw).toHaveLength(256);
    expect([raw[0], raw[1]]).toEqual([0x00, 0x02]);
    expect(raw.subarray(256 - 32)).toEqual(new Uint8Array(secret));
    expect(raw[256 - 33]).toBe(0);
    expect(raw.subarray(2, 256 - 33).every((byte) => byte !== 0)).toBe(true);
    const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    expect(records[1]?.keyExchangeKeySizeBits).toBe(2048);
    await session.close();
  });

  it('imports a P-256 ECDH key into container 1 and agrees a secret', async () => {
    const { session } = await openCard();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' });
    const coordinate = (value: string | undefined) => new Uint8Array(Buffer.from(value as string, 'base64url'));
    const blob = encodeEccPrivateKeyBlob(
      { curve: 'P-256', x: coordinate(jwk.x), y: coordinate(jwk.y), d: coordinate(jwk.d) },
      'ecdh',
    );
    await session.authenticatePin('admin', PW3);
    await session.createContainer(1, CARD_CREATE_CONTAINER_KEY_IMPORT, KeySpec.AT_ECDHE_P256, 0, blob);
    const info = await session.getContainerInfo(1);
    const cardPublic = publicKeyBlobToKeyObject(info.keyExchangePublicKey as Uint8Array);
    expect(cardPublic.export({ format: 'jwk' }).x).toBe(jwk.x);
    await session.authenticatePin('user', PW1);
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const peerJwk = peer.publicKey.export({ format: 'jwk' });
    const index = await session.constructDHAgreement({
      version: 2,
      containerIndex: 1,
      publicKey: encodeEccPublicKeyBlob({ curve: 'P-256', x: coordinate(peerJwk.x), y: coordinate(peerJwk.y) }, 'ecdh'),
    });
    expect(index).toBe(0);
    // HASH KDF with its default SHA-1 over Z: compare with node's own ECDH of the same two keys.
    const { derivedKey } = await session.deriveKey({ version: 1, flags: 0, kdf: 'HASH', agreementIndex: index });
    const sharedSecret = diffieHellman({ privateKey: peer.privateKey, publicKey: cardPublic });
    expect(derivedKey).toEqual(new Uint8Array(createHash('sha1').update(sharedSecret).digest()));
    await session.destroyDHAgreement(index);
    await expectScardError(
      session.deriveKey({ version: 1, flags: 0, kdf: 'HASH', agreementIndex: index }),
      'SCARD_E_INVALID_PARAMETER',
    );
    await session.close();
  });

  it('stores certificates in 7F21 occurrences (ksc00 = SIG = occurrence 2) with PW3', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048);
    const certificate = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07);
    await session.writeFile('mscp', 'ksc00', certificate);
    expect(await session.readFile('mscp', 'ksc00')).toEqual(certificate);
    expect(await session.enumFiles('mscp')).toEqual(['cmapfile', 'ksc00']);
    await expectScardError(session.readFile('mscp', 'ksc02'), 'SCARD_E_FILE_NOT_FOUND');
    await session.deleteFile('mscp', 'ksc00');
    expect(await session.enumFiles('mscp')).toEqual(['cmapfile']);
    // Container 0 holds the signature key: kxc00 names no file (the kit's one policy, as on PIV).
    await expectScardError(session.writeFile('mscp', 'kxc00', certificate), 'SCARD_E_FILE_NOT_FOUND');
    await session.close();
  });

  it('deletes a container: key, fingerprint and date gone', async () => {
    const { session } = await openCard();
    await session.authenticatePin('admin', PW3);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    await session.deleteContainer(2);
    await expectScardError(session.getContainerInfo(2), 'SCARD_E_NO_KEY_CONTAINER');
    expect(decodeContainerMap(await session.readFile('mscp', 'cmapfile'))[2]?.flags).toBe(0);
    await session.close();
  });

  it('needs PW3 to generate a key', async () => {
    const { session } = await openCard();
    await session.authenticatePin('user', PW1);
    await expectScardError(
      session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048),
      'SCARD_W_SECURITY_VIOLATION',
    );
    await session.close();
  });
});
