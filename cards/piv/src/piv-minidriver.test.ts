/**
 * The PIV plugin through CardSession against the PIV simulator (cards/piv/sim) over SimTransport.
 * Vectors: file layouts from docs/spec/minidriver.md §3.7/§4.3, PIV objects from docs/spec/piv.md §4, the 3DES
 * challenge/response vectors of docs/spec/minidriver.md §6.6; signatures and agreements are checked with node:crypto.
 */
import {
  constants,
  createECDH,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  verify,
} from 'node:crypto';
import {
  compressCertificate,
  decodeContainerMap,
  encodeContainerMap,
  encodeEccPrivateKeyBlob,
  encodeEccPublicKeyBlob,
  encodeRsaPrivateKeyBlob,
  publicKeyBlobToKeyObject,
} from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { SimTransport, UnknownCard } from '@minidriver/sim';
import {
  CALG_RSA_KEYX,
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CARD_CREATE_CONTAINER_KEY_IMPORT,
  CARD_DATA_VALUE_UNKNOWN,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_NONE,
  CARD_PADDING_OAEP,
  CARD_PADDING_PKCS1,
  CARD_PADDING_PSS,
  CacheMode,
  CalgHash,
  CardProperty,
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  fromHex,
  KeySpec,
  ROLE_ADMIN,
  ROLE_USER,
  reverseBytes,
  ScardError,
  toHex,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGEMENT_KEY, PivSimulator } from '../sim/index.js';
import { createPivPlugin, encryptManagementChallenge, PivApplication, plugin } from './index.js';
import { containerGuid } from './piv-slots.js';
import { makeTestCertificate } from './testing/test-certificate.js';

const PIN = new TextEncoder().encode('123456');
const PUK = new TextEncoder().encode('12345678');

async function openCard(options: { cacheMode?: 2 | 3; card?: PivSimulator } = {}) {
  const card = options.card ?? new PivSimulator({ seed: 'card-piv-tests' });
  const transport = new SimTransport(card);
  const session = await CardSession.open(
    options.cacheMode === undefined ? plugin : createPivPlugin({ cacheMode: options.cacheMode }),
    transport,
  );
  return { card, transport, session };
}

/** Authenticates ROLE_ADMIN with the default 3DES management key through the challenge/response role. */
async function authenticateAdmin(session: CardSession): Promise<void> {
  const challenge = await session.getChallengeEx(ROLE_ADMIN);
  await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge));
}

async function cardGuid(transport: SimTransport): Promise<Uint8Array> {
  await transport.beginTransaction();
  try {
    const chuid = await new PivApplication(transport).getChuid();
    return chuid!.guid!;
  } finally {
    await transport.endTransaction();
  }
}

function sha256(data: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

describe('PIV plugin: logical file system', () => {
  it('declares itself as the contract asks', () => {
    expect(plugin.name).toBe('PIV');
    expect(plugin.cardDataVersions).toEqual({ min: 4, current: 7 });
  });

  it('cardid is the CHUID GUID, cardapps is "mscp", cardcf is synthesised, cmapfile has 24 empty records', async () => {
    const { session, transport } = await openCard();
    const guid = await cardGuid(transport);
    expect(await session.readFile(null, 'cardid')).toEqual(guid);
    expect(toHex(await session.readFile(null, 'cardapps'))).toBe('6d73637000000000');
    expect(toHex(await session.readFile(null, 'cardcf'))).toBe('000000000000');
    expect(await session.readFile('mscp', 'cmapfile')).toEqual(new Uint8Array(24 * 86));
    expect(await session.enumFiles(null)).toEqual(['cardid', 'cardcf', 'cardapps']);
    expect(await session.enumFiles('mscp')).toEqual(['cmapfile']);
    await expect(session.readFile('mscp', 'kxc00')).rejects.toMatchObject({ name: 'SCARD_E_FILE_NOT_FOUND' });
    await expect(session.readFile('nodir', 'x')).rejects.toMatchObject({ name: 'SCARD_E_DIR_NOT_FOUND' });
    expect(await session.getProperty('Card Identifier')).toEqual(guid);
    await session.close();
  });

  it('refuses a card without PIV with SCARD_E_UNKNOWN_CARD', async () => {
    const transport = new SimTransport(new UnknownCard());
    await expect(CardSession.open(plugin, transport)).rejects.toMatchObject({ name: 'SCARD_E_UNKNOWN_CARD' });
  });
});

describe('PIV plugin: containers, certificates and cryptography', () => {
  it('generates RSA 2048 in container 0 and P-256 in container 2; cmapfile is exact', async () => {
    const { session, transport } = await openCard();
    await expect(
      session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048),
    ).rejects.toMatchObject({
      name: 'SCARD_W_SECURITY_VIOLATION',
    });
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDHE_P256, 0);
    const guid = await cardGuid(transport);
    const empty = { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 };
    const expected = Array.from({ length: 24 }, () => empty);
    expected[0] = {
      guid: containerGuid(guid, 0),
      flags: CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER,
      signatureKeySizeBits: 0,
      keyExchangeKeySizeBits: 2048,
    };
    expected[2] = {
      guid: containerGuid(guid, 2),
      flags: CONTAINER_MAP_VALID_CONTAINER,
      signatureKeySizeBits: 0,
      keyExchangeKeySizeBits: 256,
    };
    expect(await session.readFile('mscp', 'cmapfile')).toEqual(encodeContainerMap(expected));
    // OpenSC's GUID scheme: key id 01 then the card GUID's bytes 1..15.
    expect(containerGuid(guid, 0)).toBe(`01${toHex(guid).slice(2)}`);
    expect(containerGuid(guid, 9)).toBe(`10${toHex(guid).slice(2)}`);
    const info0 = await session.getContainerInfo(0);
    expect(info0.signaturePublicKey).toBeUndefined();
    expect(new DataView(info0.keyExchangePublicKey!.buffer).getUint32(4, true)).toBe(CALG_RSA_KEYX);
    const info2 = await session.getContainerInfo(2);
    expect(publicKeyBlobToKeyObject(info2.keyExchangePublicKey!).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    await expect(session.getContainerInfo(1)).rejects.toMatchObject({ name: 'SCARD_E_NO_KEY_CONTAINER' });
    // Slot table rules: RSA in 9A is AT_KEYEXCHANGE, ECDH not in 9E.
    await expect(
      session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_SIGNATURE, 2048),
    ).rejects.toMatchObject({
      name: 'SCARD_E_UNSUPPORTED_FEATURE',
    });
    await expect(
      session.createContainer(3, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDHE_P256, 0),
    ).rejects.toMatchObject({
      name: 'SCARD_E_UNSUPPORTED_FEATURE',
    });
    expect(await session.queryFreeSpace()).toMatchObject({ keyContainersAvailable: 22, maxKeyContainers: 24 });
    await session.close();
  });

  it('writes and reads certificates: DER, Base CSP compressed, and PIV gzip objects', async () => {
    const { session, transport } = await openCard();
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    await session.createContainer(3, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    const key0 = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey!);
    const key3 = publicKeyBlobToKeyObject((await session.getContainerInfo(3)).signaturePublicKey!);
    const certificate0 = await makeTestCertificate(key0, 'container 0');
    const certificate3 = await makeTestCertificate(key3, 'container 3');
    await session.writeFile('mscp', 'kxc00', certificate0);
    await session.writeFile('mscp', 'ksc03', compressCertificate(certificate3));
    expect(await session.readFile('mscp', 'kxc00')).toEqual(certificate0);
    expect(await session.readFile('mscp', 'ksc03')).toEqual(certificate3);
    expect(await session.enumFiles('mscp')).toEqual(['cmapfile', 'kxc00', 'ksc03']);
    expect(await session.getFileInfo('mscp', 'kxc00')).toMatchObject({ size: certificate0.length });
    // Wrong kind, wrong key.
    await expect(session.readFile('mscp', 'ksc00')).rejects.toMatchObject({ name: 'SCARD_E_FILE_NOT_FOUND' });
    await expect(session.writeFile('mscp', 'kxc00', certificate3)).rejects.toMatchObject({
      name: 'SCARD_E_INVALID_PARAMETER',
    });
    // A certificate object stored gzip-compressed (CertInfo 01) by another tool reads back as DER.
    await transport.beginTransaction();
    const app = new PivApplication(transport);
    const raw = await app.readObject(0x5fc101);
    await transport.endTransaction();
    expect(raw?.[0]).toBe(0x53);
    await session.close();

    const card = new PivSimulator({ seed: 'gzip-card' });
    const direct = new SimTransport(card);
    const pivApp = new PivApplication(direct);
    await direct.beginTransaction();
    await pivApp.select();
    await pivApp.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    const generated = await pivApp.generateKey(0x9a, 0x11);
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(generated.kind === 'ecc' ? generated.x : []).toString('base64url'),
      y: Buffer.from(generated.kind === 'ecc' ? generated.y : []).toString('base64url'),
    };
    const gzipCertificate = await makeTestCertificate(createPublicKey({ key: jwk, format: 'jwk' }), 'gzip');
    await pivApp.putCertificate(0x9a, gzipCertificate, { compress: true });
    const object = await pivApp.readObject(0x5fc105);
    await direct.endTransaction();
    // 53 L { 70 L <gzip 1F 8B …> 71 01 01 FE 00 }
    expect(toHex(object!.subarray(-5))).toBe('710101fe00');
    const gzipSession = await CardSession.open(plugin, direct);
    expect(await gzipSession.readFile('mscp', 'ksc00')).toEqual(gzipCertificate);
    await gzipSession.close();
  });

  it('signs PKCS#1 v1.5 and PSS (little-endian) and ECDSA (r||s), verified by node:crypto', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    await session.createContainer(3, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0);
    const rsaKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey!);
    const ecKey = publicKeyBlobToKeyObject((await session.getContainerInfo(3)).signaturePublicKey!);
    const hash = sha256('message');
    const basic = {
      version: 1,
      containerIndex: 0,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: hash,
    };
    await expect(session.signData(basic)).rejects.toMatchObject({ name: 'SCARD_W_SECURITY_VIOLATION' });
    await session.authenticateEx(ROLE_USER, 0, PIN);
    const pkcs1 = (await session.signData(basic)).signature!;
    expect(pkcs1.length).toBe(256);
    expect(verify('sha256', Buffer.from('message'), rsaKey, reverseBytes(pkcs1))).toBe(true);
    const pss = (
      await session.signData({
        ...basic,
        version: 2,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        paddingType: CARD_PADDING_PSS,
        paddingInfo: { algorithm: 'SHA256', saltLength: 32 },
      })
    ).signature!;
    expect(
      verify(
        'sha256',
        Buffer.from('message'),
        { key: rsaKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        reverseBytes(pss),
      ),
    ).toBe(true);
    const ecdsa = (await session.signData({ ...basic, containerIndex: 3, keySpec: KeySpec.AT_ECDSA_P256 })).signature!;
    expect(ecdsa.length).toBe(64);
    expect(verify('sha256', Buffer.from('message'), { key: ecKey, dsaEncoding: 'ieee-p1363' }, ecdsa)).toBe(true);
    // The key spec must match the container's half.
    await expect(session.signData({ ...basic, keySpec: KeySpec.AT_SIGNATURE })).rejects.toMatchObject({
      name: 'SCARD_E_NO_KEY_CONTAINER',
    });
    await session.close();
  });

  it('decrypts raw, PKCS#1 and OAEP (little-endian at the interface)', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    await session.createContainer(0, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048);
    const rsaKey = publicKeyBlobToKeyObject((await session.getContainerInfo(0)).keyExchangePublicKey!);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    const message = Buffer.from('secret message');
    const pkcs1 = reverseBytes(
      new Uint8Array(publicEncrypt({ key: rsaKey, padding: constants.RSA_PKCS1_PADDING }, message)),
    );
    const base = { version: 2, containerIndex: 0, keySpec: KeySpec.AT_KEYEXCHANGE };
    const plain = await session.rsaDecrypt({ ...base, data: pkcs1, paddingType: CARD_PADDING_PKCS1 });
    expect(Buffer.from(reverseBytes(plain))).toEqual(message);
    const raw = reverseBytes(await session.rsaDecrypt({ ...base, data: pkcs1, paddingType: CARD_PADDING_NONE }));
    expect(raw.length).toBe(256);
    expect(raw[0]).toBe(0x00);
    expect(raw[1]).toBe(0x02);
    expect(Buffer.from(raw.subarray(-message.length))).toEqual(message);
    const oaep = reverseBytes(
      new Uint8Array(
        publicEncrypt({ key: rsaKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, message),
      ),
    );
    const oaepPlain = await session.rsaDecrypt({
      ...base,
      data: oaep,
      paddingType: CARD_PADDING_OAEP,
      paddingInfo: { algorithm: 'SHA256' },
    });
    expect(Buffer.from(reverseBytes(oaepPlain))).toEqual(message);
    await session.close();
  });

  it('ECDH: the agreement equals node:crypto, and CardDeriveKey HASH runs over it', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDHE_P256, 0);
    const cardKey = publicKeyBlobToKeyObject((await session.getContainerInfo(2)).keyExchangePublicKey!);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    const peer = createECDH('prime256v1');
    peer.generateKeys();
    const point = peer.getPublicKey();
    const peerBlob = encodeEccPublicKeyBlob(
      { curve: 'P-256', x: point.subarray(1, 33), y: point.subarray(33) },
      'ecdh',
    );
    const index = await session.constructDHAgreement({ version: 2, containerIndex: 2, publicKey: peerBlob });
    const cardPoint = cardKey.export({ format: 'jwk' });
    const expectedZ = peer.computeSecret(
      Buffer.concat([Buffer.of(4), Buffer.from(cardPoint.x!, 'base64url'), Buffer.from(cardPoint.y!, 'base64url')]),
    );
    const derived = await session.deriveKey({ version: 2, flags: 0, kdf: 'HASH', agreementIndex: index });
    expect(Buffer.from(derived.derivedKey!)).toEqual(createHash('sha1').update(expectedZ).digest());
    await session.destroyDHAgreement(index);
    await expect(session.deriveKey({ version: 2, flags: 0, kdf: 'HASH', agreementIndex: index })).rejects.toMatchObject(
      {
        name: 'SCARD_E_INVALID_PARAMETER',
      },
    );
    await session.close();
  });

  it('imports RSA and P-256 keys (Yubico IMPORT) and signs with them', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
    const b = (text: string | undefined) => new Uint8Array(Buffer.from(text!, 'base64url'));
    const rsaBlob = encodeRsaPrivateKeyBlob(
      {
        modulus: b(rsaJwk.n),
        publicExponent: b(rsaJwk.e),
        privateExponent: b(rsaJwk.d),
        prime1: b(rsaJwk.p),
        prime2: b(rsaJwk.q),
        exponent1: b(rsaJwk.dp),
        exponent2: b(rsaJwk.dq),
        coefficient: b(rsaJwk.qi),
      },
      'keyExchange',
    );
    await session.createContainer(4, CARD_CREATE_CONTAINER_KEY_IMPORT, KeySpec.AT_KEYEXCHANGE, 0, rsaBlob);
    // Retired slot 82: the plugin raised keysWithOnCardCerts in the Key History object so the key is visible.
    const records = decodeContainerMap(await session.readFile('mscp', 'cmapfile'));
    expect(records[4]).toMatchObject({
      flags: CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER,
      keyExchangeKeySizeBits: 2048,
    });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = ec.privateKey.export({ format: 'jwk' });
    const ecBlob = encodeEccPrivateKeyBlob({ curve: 'P-256', x: b(ecJwk.x), y: b(ecJwk.y), d: b(ecJwk.d) }, 'ecdsa');
    await session.createContainerEx(3, CARD_CREATE_CONTAINER_KEY_IMPORT, KeySpec.AT_ECDSA_P256, 0, ecBlob, ROLE_USER);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    const hash = sha256('imported');
    const signature = await session.signData({
      version: 1,
      containerIndex: 4,
      keySpec: KeySpec.AT_KEYEXCHANGE,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: hash,
    });
    expect(verify('sha256', Buffer.from('imported'), rsa.publicKey, reverseBytes(signature.signature!))).toBe(true);
    const ecdsa = await session.signData({
      version: 1,
      containerIndex: 3,
      keySpec: KeySpec.AT_ECDSA_P256,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: hash,
    });
    expect(
      verify('sha256', Buffer.from('imported'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecdsa.signature!),
    ).toBe(true);
    expect(await session.getContainerProperty(3, 'PIN Identifier')).toBe(ROLE_USER);
    await session.close();
  });

  it('9C is PIN-always: bound to PIN id 4, each signature needs a fresh VERIFY', async () => {
    const { session } = await openCard();
    await authenticateAdmin(session);
    await session.createContainerEx(1, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDSA_P256, 0, undefined, 4);
    expect(await session.getContainerProperty(1, 'PIN Identifier')).toBe(4);
    const request = {
      version: 1,
      containerIndex: 1,
      keySpec: KeySpec.AT_ECDSA_P256,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: sha256('x'),
    };
    await session.authenticateEx(4, 0, PIN);
    expect((await session.signData(request)).signature!.length).toBe(64);
    await expect(session.signData(request)).rejects.toMatchObject({ name: 'SCARD_W_SECURITY_VIOLATION' });
    await session.authenticateEx(4, 0, PIN);
    expect((await session.signData(request)).signature!.length).toBe(64);
    await session.close();
  });

  it('deleteContainer: an empty index succeeds; a key the card cannot delete is SCARD_E_UNSUPPORTED_FEATURE', async () => {
    const { session } = await openCard();
    await session.deleteContainer(5);
    await authenticateAdmin(session);
    await session.createContainer(2, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_ECDHE_P256, 0);
    await expect(session.deleteContainer(2)).rejects.toMatchObject({ name: 'SCARD_E_UNSUPPORTED_FEATURE' });
    expect(await session.getContainerInfo(2)).toBeDefined();
    await session.close();
  });
});

describe('PIV plugin: PINs and the management key', () => {
  it('wrong PIN → SCARD_W_WRONG_CHV with retries, then SCARD_W_CHV_BLOCKED; the PUK unblocks', async () => {
    const { session } = await openCard();
    const wrong = new TextEncoder().encode('654321');
    await expect(session.authenticateEx(ROLE_USER, 0, wrong)).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 2,
    });
    await expect(session.authenticateEx(ROLE_USER, 0, wrong)).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 1,
    });
    await expect(session.authenticateEx(ROLE_USER, 0, wrong)).rejects.toMatchObject({
      name: 'SCARD_W_CHV_BLOCKED',
      retriesLeft: 0,
    });
    await expect(session.authenticateEx(ROLE_USER, 0, PIN)).rejects.toMatchObject({
      name: 'SCARD_W_CHV_BLOCKED',
      retriesLeft: 0,
    });
    const newPin = new TextEncoder().encode('24681357');
    await expect(
      session.unblockPin('user', new TextEncoder().encode('00000000'), newPin, 0, CARD_AUTHENTICATE_PIN_PIN),
    ).rejects.toMatchObject({ name: 'SCARD_W_WRONG_CHV', retriesLeft: 2 });
    await session.unblockPin('user', PUK, newPin, 0, CARD_AUTHENTICATE_PIN_PIN);
    await session.authenticateEx(ROLE_USER, 0, newPin);
    await session.changeAuthenticatorEx(2, ROLE_USER, newPin, ROLE_USER, PIN, 0);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    await session.close();
  });

  it('CP_PIN_RETRIES_LEFT (our vendor property) reads the counters without spending a try', async () => {
    const retriesLeft = (session: CardSession, pinId: number) =>
      session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, pinId);
    const { session } = await openCard(); // simulator firmware 5.4.3: GET METADATA available
    expect(await retriesLeft(session, ROLE_USER)).toBe(3);
    await expect(session.authenticateEx(ROLE_USER, 0, new TextEncoder().encode('654321'))).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 2,
    });
    expect(await retriesLeft(session, ROLE_USER)).toBe(2);
    expect(await retriesLeft(session, 4)).toBe(2); // the signature PIN is card PIN 80 too
    expect(await retriesLeft(session, ROLE_USER)).toBe(2); // reading did not spend a try
    expect(await retriesLeft(session, 3)).toBe(3); // PUK: GET METADATA 81
    expect(await retriesLeft(session, ROLE_ADMIN)).toBe(CARD_DATA_VALUE_UNKNOWN); // management key: no counter
    await session.authenticateEx(ROLE_USER, 0, PIN); // a right PIN resets the counter; VERIFY would say 9000
    expect(await retriesLeft(session, ROLE_USER)).toBe(3);
    await expect(retriesLeft(session, 5)).rejects.toMatchObject({ name: 'SCARD_E_INVALID_PARAMETER' });
    await expect(session.setProperty(CardProperty.CP_PIN_RETRIES_LEFT, 3, ROLE_USER)).rejects.toMatchObject({
      name: 'SCARD_E_UNSUPPORTED_FEATURE',
    });
    await session.close();
  });

  it('CP_PIN_RETRIES_LEFT before firmware 5.3: empty VERIFY for the PIN, UNKNOWN for the PUK and once verified', async () => {
    const { session } = await openCard({ card: new PivSimulator({ seed: 'card-piv-old', version: [4, 3, 5] }) });
    await expect(session.authenticateEx(ROLE_USER, 0, new TextEncoder().encode('654321'))).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
    });
    expect(await session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, ROLE_USER)).toBe(2);
    expect(await session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, 3)).toBe(CARD_DATA_VALUE_UNKNOWN);
    await session.authenticateEx(ROLE_USER, 0, PIN);
    // VERIFY without data answers 9000 now and there is no GET METADATA to ask instead.
    expect(await session.getProperty(CardProperty.CP_PIN_RETRIES_LEFT, ROLE_USER)).toBe(CARD_DATA_VALUE_UNKNOWN);
    await session.close();
  });

  it('management key challenge/response: 3DES vectors of docs/spec/minidriver.md §6.6 and a wrong response', async () => {
    // Key 01..08 ×3, challenge A8 92 D7 56 01 61 7C 5D → B0 A1 67 47 47 F4 EB 87; zero key → 19 51 EC 3E F8 1B BA BB.
    expect(toHex(encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, fromHex('a892d75601617c5d')))).toBe(
      'b0a1674747f4eb87',
    );
    expect(toHex(encryptManagementChallenge(0x03, new Uint8Array(24), fromHex('a892d75601617c5d')))).toBe(
      '1951ec3ef81bbabb',
    );
    const { session } = await openCard();
    const first = await session.getChallengeEx(ROLE_ADMIN);
    expect(first.length).toBe(8);
    await expect(session.authenticateEx(ROLE_ADMIN, 0, new Uint8Array(8))).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
    });
    // A response is bound to its challenge: a second use fails.
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    const response = encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, challenge);
    await session.authenticateEx(ROLE_ADMIN, 0, response);
    await expect(session.authenticateEx(ROLE_ADMIN, 0, response)).rejects.toMatchObject({ name: 'SCARD_W_WRONG_CHV' });
    // Changing the management key through CardChangeAuthenticatorEx.
    const newKey = fromHex('0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080');
    const change = await session.getChallengeEx(ROLE_ADMIN);
    await session.changeAuthenticatorEx(
      2,
      ROLE_ADMIN,
      encryptManagementChallenge(0x03, DEFAULT_MANAGEMENT_KEY, change),
      ROLE_ADMIN,
      newKey,
      0,
    );
    const next = await session.getChallengeEx(ROLE_ADMIN);
    await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x03, newKey, next));
    await session.close();
  });

  it('AES-192 management key (YubiKey 5.7 default): 16-byte challenges', async () => {
    const card = new PivSimulator({
      seed: 'aes',
      version: [5, 7, 1],
      managementKey: { algorithm: 'aes192', key: DEFAULT_MANAGEMENT_KEY },
    });
    const { session } = await openCard({ card });
    const challenge = await session.getChallengeEx(ROLE_ADMIN);
    expect(challenge.length).toBe(16);
    await session.authenticateEx(ROLE_ADMIN, 0, encryptManagementChallenge(0x0a, DEFAULT_MANAGEMENT_KEY, challenge));
    await session.close();
  });

  it('properties: PIN info and list, key sizes, capabilities, cache mode, read-only, serial', async () => {
    const { session, transport } = await openCard();
    expect(await session.getProperty('PIN List')).toBe(0b11110);
    expect(await session.getProperty('PIN Information', ROLE_USER)).toMatchObject({
      pinType: 0,
      purpose: 5,
      changePermission: 0x02,
      unblockPermission: 0x08,
    });
    expect(await session.getProperty('PIN Information', ROLE_ADMIN)).toMatchObject({
      pinType: 2,
      purpose: 4,
      unblockPermission: 0,
    });
    expect(await session.getProperty('PIN Information', 3)).toMatchObject({ pinType: 0, purpose: 6 });
    expect(await session.getProperty('PIN Information', 4)).toMatchObject({
      purpose: 1,
      cachePolicy: { type: 3, info: 0 },
    });
    await expect(session.getProperty('PIN Information', 5)).rejects.toMatchObject({
      name: 'SCARD_E_INVALID_PARAMETER',
    });
    expect(await session.getProperty('Key Sizes', KeySpec.AT_KEYEXCHANGE)).toMatchObject({
      minimumBitLength: 1024,
      defaultBitLength: 2048,
      maximumBitLength: 2048,
    });
    expect(await session.getProperty('Key Sizes', KeySpec.AT_ECDSA_P384)).toMatchObject({
      minimumBitLength: 384,
      maximumBitLength: 384,
    });
    await expect(session.getProperty('Key Sizes', KeySpec.AT_ECDSA_P521)).rejects.toMatchObject({
      name: 'SCARD_E_UNSUPPORTED_FEATURE',
    });
    expect(await session.getProperty('Capabilities')).toMatchObject({
      certificateCompression: true,
      keyGeneration: true,
    });
    expect(await session.getProperty('Cache Mode')).toBe(CacheMode.NO_CACHE);
    expect(await session.getProperty('Read Only Mode')).toBe(false);
    expect(await session.getProperty('Card Serial Number')).toEqual(await cardGuid(transport));
    await session.close();
  });
});

describe('ScardError only', () => {
  it('errors escaping the plugin are ScardError', async () => {
    const { session } = await openCard();
    const error = await session.readFile('mscp', 'kxc99').catch((caught: unknown) => caught);
    expect(ScardError.isInstance(error)).toBe(true);
    await session.close();
  });
});
