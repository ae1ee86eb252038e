import {
  constants,
  createECDH,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  verify,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PivSimulator } from './piv-simulator.js';
import {
  authenticateManagementKey,
  encryptManagementBlock,
  exchange,
  hex,
  padded,
  toHexString,
  transmit,
  verifyPin,
} from './piv-test-helpers.js';

const DEFAULT_KEY = hex('010203040506070801020304050607080102030405060708');
const SELECT_PIV = '00a4040009a0000003080000100000';

function freshCard(options: ConstructorParameters<typeof PivSimulator>[0] = {}): PivSimulator {
  const card = new PivSimulator({ seed: 'piv-test', serial: 12345678, ...options });
  card.powerOn();
  return card;
}

/** SHA-256 DigestInfo in a PKCS#1 v1.5 type-1 block of `length` bytes (host-side padding, as PIV requires). */
function pkcs1SignatureBlock(message: Uint8Array, length: number): Uint8Array {
  const digestInfo = Buffer.concat([
    hex('3031300d060960864801650304020105000420'),
    createHash('sha256').update(message).digest(),
  ]);
  const block = Buffer.alloc(length, 0xff);
  block[0] = 0;
  block[1] = 1;
  block[length - digestInfo.length - 1] = 0;
  digestInfo.copy(block, length - digestInfo.length);
  return new Uint8Array(block);
}

/** The public key from a 7F49 template (RSA 81/82 or EC 86). */
function publicKeyFrom(template: Uint8Array, curve?: 'P-256' | 'P-384') {
  const body = Buffer.from(template);
  // 7F49 + length (1 or 3 bytes)
  let offset = 2;
  offset += body[offset]! === 0x82 ? 3 : body[offset]! === 0x81 ? 2 : 1;
  const read = () => {
    const tag = body[offset++]!;
    let length = body[offset++]!;
    if (length === 0x81) length = body[offset++]!;
    else if (length === 0x82) {
      length = body.readUInt16BE(offset);
      offset += 2;
    }
    const value = body.subarray(offset, offset + length);
    offset += length;
    return { tag, value };
  };
  const first = read();
  if (first.tag === 0x86) {
    const size = (first.value.length - 1) / 2;
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: curve,
        x: first.value.subarray(1, 1 + size).toString('base64url'),
        y: first.value.subarray(1 + size).toString('base64url'),
      },
      format: 'jwk',
    });
  }
  const second = read();
  return createPublicKey({
    key: { kty: 'RSA', n: first.value.toString('base64url'), e: second.value.toString('base64url') },
    format: 'jwk',
  });
}

function generate(
  card: PivSimulator,
  slot: number,
  algorithm: number,
  extra = '',
): { statusWord: number; data: Uint8Array } {
  const body = hex(`8001${algorithm.toString(16).padStart(2, '0')}${extra}`);
  return exchange(card, 0x47, 0x00, slot, new Uint8Array([0xac, body.length, ...body]));
}

function generalAuthenticate(card: PivSimulator, algorithm: number, slot: number, tag: 0x81 | 0x85, input: Uint8Array) {
  const inner = Buffer.concat([hex('8200'), Buffer.of(tag), encodeLengthForTest(input.length), input]);
  const template = Buffer.concat([Buffer.of(0x7c), encodeLengthForTest(inner.length), inner]);
  return exchange(card, 0x87, algorithm, slot, new Uint8Array(template));
}

function encodeLengthForTest(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  if (length < 0x100) return Buffer.of(0x81, length);
  return Buffer.of(0x82, length >> 8, length & 0xff);
}

/** Strips the 7C { 82 L ... } wrapper of a GENERAL AUTHENTICATE answer. */
function authenticationResult(data: Uint8Array): Buffer {
  const body = Buffer.from(data);
  let offset = 1;
  offset += body[offset] === 0x82 ? 3 : body[offset] === 0x81 ? 2 : 1;
  expect(body[offset]).toBe(0x82);
  offset += 1;
  offset += body[offset] === 0x82 ? 3 : body[offset] === 0x81 ? 2 : 1;
  return body.subarray(offset);
}

describe('SELECT', () => {
  it('answers the YubiKey application property template (docs/spec/piv.md §2 example, byte for byte)', () => {
    const response = transmit(freshCard(), SELECT_PIV);
    expect(toHexString(response.data)).toBe('61114f0600001000010079074f05a000000308');
    expect(response.statusWord).toBe(0x9000);
  });

  it('accepts the 5-byte RID yubico-piv-tool sends and the full AID', () => {
    const card = freshCard();
    expect(transmit(card, '00a4040005a000000308').statusWord).toBe(0x9000);
    expect(transmit(card, '00a404000ba000000308000010000100').statusWord).toBe(0x9000);
  });

  it('answers 6A82 for another application and keeps PIV selected with its security status', () => {
    const card = freshCard();
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(transmit(card, '00a4040006d27600012401').statusWord).toBe(0x6a82);
    expect(transmit(card, '0020008000').statusWord).toBe(0x9000);
  });

  it('drops the PIN status when PIV is selected again (YubiKey behaviour yubico-piv-tool relies on)', () => {
    const card = freshCard();
    expect(verifyPin(card, '123456')).toBe(0x9000);
    transmit(card, SELECT_PIV);
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c3);
  });
});

describe('GET DATA', () => {
  it('returns the CHUID Yubico tools write: FASC-N 9999, random v4 GUID, expiry 20300101 (docs/spec/piv.md §4.2)', () => {
    const response = exchange(freshCard(), 0xcb, 0x3f, 0xff, hex('5c035fc102'));
    expect(response.statusWord).toBe(0x9000);
    const value = toHexString(response.data);
    expect(value.slice(0, 4)).toBe('533b');
    expect(value.slice(4, 58)).toBe('3019d4e739da739ced39ce739d836858210842108421c84210c3eb');
    expect(value.slice(58, 62)).toBe('3410');
    const guid = response.data.subarray(31, 47);
    expect(guid[6]! >> 4).toBe(4);
    expect(value.slice(94)).toBe('350832303330303130313e00fe00');
  });

  it('gives each card its own GUID, and the same one for the same seed', () => {
    const read = (card: PivSimulator) => toHexString(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc102')).data);
    expect(read(freshCard())).toBe(read(freshCard()));
    expect(read(new PivSimulator())).not.toBe(read(new PivSimulator()));
  });

  it('returns the CCC with the Yubico card identifier prefix', () => {
    const response = exchange(freshCard(), 0xcb, 0x3f, 0xff, hex('5c035fc107'));
    expect(toHexString(response.data.subarray(0, 11))).toBe('5333f015a000000116ff02');
    expect(toHexString(response.data.subarray(25))).toBe('f10121f20121f300f40100f50110f600f700fa00fb00fc00fd00fe00');
  });

  it('returns the discovery object unwrapped (docs/spec/piv.md §4.4)', () => {
    const response = exchange(freshCard(), 0xcb, 0x3f, 0xff, hex('5c017e'));
    expect(toHexString(response.data)).toBe('7e124f0ba0000003080000100001005f2f024000');
  });

  it('answers 6A82 for absent objects, 6982 for PIN-protected ones before VERIFY, 6A86 for wrong P1/P2', () => {
    const card = freshCard();
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc105')).statusWord).toBe(0x6a82);
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc109')).statusWord).toBe(0x6982);
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc109')).statusWord).toBe(0x6a82);
    expect(exchange(card, 0xcb, 0x3f, 0x00, hex('5c035fc102')).statusWord).toBe(0x6a86);
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c03112233')).statusWord).toBe(0x6a82);
  });
});

describe('PUT DATA and long objects', () => {
  it('needs the management key (6982), then stores, reads back and deletes', () => {
    const card = freshCard();
    const put = hex('5c035fc10953087f0101aa0201bbfe00'.replace('7f0101aa0201bb', '0101aa0201bb01'));
    expect(exchange(card, 0xdb, 0x3f, 0xff, put).statusWord).toBe(0x6982);
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    const object = hex('5c035fc10c53080101000201005e00'.replace('5e00', 'fe00'));
    expect(exchange(card, 0xdb, 0x3f, 0xff, object).statusWord).toBe(0x9000);
    expect(toHexString(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc10c')).data)).toBe(
      '530801010002010 0fe00'.replace(' ', ''),
    );
    expect(exchange(card, 0xdb, 0x3f, 0xff, hex('5c035fc10c5300')).statusWord).toBe(0x9000);
    expect(exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc10c')).statusWord).toBe(0x6a82);
  });

  it('assembles a chained 3 KB certificate and returns it in 61xx pieces', () => {
    const card = freshCard();
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    const certificate = new Uint8Array(3000).map((_, index) => (index * 7) & 0xff);
    const inner = Buffer.concat([hex('70820bb8'), certificate, hex('710100fe00')]);
    const object = Buffer.concat([
      hex('5c035fc105'),
      Buffer.of(0x53, 0x82, inner.length >> 8, inner.length & 0xff),
      inner,
    ]);
    expect(exchange(card, 0xdb, 0x3f, 0xff, new Uint8Array(object)).statusWord).toBe(0x9000);

    // First piece by hand: 256 bytes and 61 00 (more than 255 left).
    const first = transmit(card, '00cb3fff055c035fc10500');
    expect(first.data.length).toBe(256);
    expect(first.statusWord).toBe(0x6100);
    const whole = exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc105'));
    expect(whole.statusWord).toBe(0x9000);
    expect(toHexString(whole.data)).toBe(toHexString(object.subarray(5)));
  });

  it('answers GET RESPONSE without a pending response with 6985 and a too-large object with 6A84', () => {
    const card = freshCard();
    expect(transmit(card, '00c0000000').statusWord).toBe(0x6985);
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    const inner = new Uint8Array(3064);
    const object = Buffer.concat([
      hex('5c035fc105'),
      Buffer.of(0x53, 0x82, inner.length >> 8, inner.length & 0xff),
      inner,
    ]);
    expect(exchange(card, 0xdb, 0x3f, 0xff, new Uint8Array(object)).statusWord).toBe(0x6a84);
  });

  it('discards a chain another command interrupts', () => {
    const card = freshCard();
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    expect(transmit(card, '10db3fff055c035fc10c').statusWord).toBe(0x9000);
    expect(transmit(card, '00fd000000').statusWord).toBe(0x9000);
    // The final block alone is not a valid PUT DATA.
    expect(transmit(card, '00db3fff0853080101000201 00'.replace(' ', '')).statusWord).toBe(0x6a80);
  });
});

describe('PIN and PUK', () => {
  it('counts wrong PINs with 63Cx, blocks with 6983, and unblocks with the PUK', () => {
    const card = freshCard();
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c3);
    expect(verifyPin(card, '000000')).toBe(0x63c2);
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(transmit(card, '0020008000').statusWord).toBe(0x9000);
    expect(verifyPin(card, '000000')).toBe(0x63c2);
    expect(verifyPin(card, '000000')).toBe(0x63c1);
    expect(verifyPin(card, '000000')).toBe(0x63c0);
    expect(verifyPin(card, '123456')).toBe(0x6983);
    expect(transmit(card, '0020008000').statusWord).toBe(0x6983);
    // RESET RETRY COUNTER: wrong PUK costs a PUK try; the right one sets the new PIN (not verified).
    expect(
      exchange(card, 0x2c, 0x00, 0x80, new Uint8Array([...padded('87654321'), ...padded('654321')])).statusWord,
    ).toBe(0x63c2);
    expect(
      exchange(card, 0x2c, 0x00, 0x80, new Uint8Array([...padded('12345678'), ...padded('654321')])).statusWord,
    ).toBe(0x9000);
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c3);
    expect(verifyPin(card, '654321')).toBe(0x9000);
  });

  it('changes PIN and PUK; a bad new PIN is 6A80 and costs nothing', () => {
    const card = freshCard();
    expect(exchange(card, 0x24, 0x00, 0x80, new Uint8Array([...padded('123456'), ...padded('123')])).statusWord).toBe(
      0x6a80,
    );
    expect(
      exchange(card, 0x24, 0x00, 0x80, new Uint8Array([...padded('111111'), ...padded('222222')])).statusWord,
    ).toBe(0x63c2);
    expect(
      exchange(card, 0x24, 0x00, 0x80, new Uint8Array([...padded('123456'), ...padded('24681357')])).statusWord,
    ).toBe(0x9000);
    expect(transmit(card, '0020008000').statusWord).toBe(0x9000);
    expect(
      exchange(card, 0x24, 0x00, 0x81, new Uint8Array([...padded('12345678'), ...padded('87654321')])).statusWord,
    ).toBe(0x9000);
    transmit(card, SELECT_PIV);
    expect(verifyPin(card, '24681357')).toBe(0x9000);
    expect(exchange(card, 0x20, 0x00, 0x81, padded('87654321')).statusWord).toBe(0x9000);
  });

  it('logs out with VERIFY P1=FF and forgets the PIN on power off', () => {
    const card = freshCard();
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(transmit(card, '0020ff8000'.slice(0, 8)).statusWord).toBe(0x9000);
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c3);
    expect(verifyPin(card, '123456')).toBe(0x9000);
    card.powerOff();
    card.powerOn();
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c3);
  });

  it('answers 6A88 for unknown references and 6A80 for a wrong PIN block length', () => {
    const card = freshCard();
    expect(exchange(card, 0x20, 0x00, 0x00, padded('123456')).statusWord).toBe(0x6a88);
    expect(exchange(card, 0x20, 0x00, 0x80, hex('313233343536')).statusWord).toBe(0x6a80);
  });
});

describe('management key', () => {
  it('mutually authenticates with the default 3DES key and rejects a wrong key with 6982', () => {
    const card = freshCard();
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    expect(authenticateManagementKey(card, 0x03, hex('111111111111111111111111111111111111111111111111'))).toBe(0x6982);
    expect(generate(card, 0x9a, 0x11).statusWord).toBe(0x6982);
  });

  it('authenticates an AES-128 key mutually and externally (SP 800-73 example shape); P1 must match (6A86)', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f');
    const card = freshCard({ managementKey: { algorithm: 'aes128', key } });
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x6a86);
    expect(authenticateManagementKey(card, 0x08, key)).toBe(0x9000);
    const challenge = transmit(card, '0087089b047c02810000');
    expect(challenge.statusWord).toBe(0x9000);
    expect(toHexString(challenge.data.subarray(0, 4))).toBe('7c128110');
    const encrypted = encryptManagementBlock(0x08, key, challenge.data.subarray(4));
    expect(transmit(card, `0087089b147c128210${toHexString(encrypted)}`).statusWord).toBe(0x9000);
    expect(generate(card, 0x9e, 0x11).statusWord).toBe(0x9000);
  });

  it('authenticates AES-192 and AES-256 keys', () => {
    for (const [algorithm, id, length] of [
      ['aes192', 0x0a, 24],
      ['aes256', 0x0c, 32],
    ] as const) {
      const key = new Uint8Array(length).map((_, index) => index + 1);
      const card = freshCard({ managementKey: { algorithm, key } });
      expect(authenticateManagementKey(card, id, key)).toBe(0x9000);
    }
  });

  it('SET MANAGEMENT KEY (FF) needs authentication and replaces the key', () => {
    const card = freshCard();
    const newKey = hex('00112233445566778899aabbccddeeff0011223344556677');
    const command = new Uint8Array([0x0a, 0x9b, 0x18, ...newKey]);
    expect(exchange(card, 0xff, 0xff, 0xff, command).statusWord).toBe(0x6982);
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    expect(exchange(card, 0xff, 0xff, 0xff, command).statusWord).toBe(0x9000);
    expect(authenticateManagementKey(card, 0x0a, newKey)).toBe(0x9000);
    expect(toHexString(exchange(card, 0xf7, 0x00, 0x9b).data)).toBe('01010a02020001050100');
  });
});

describe('keys', () => {
  it('generates RSA 2048 in 9A, signs only after VERIFY, and the signature verifies with node:crypto', () => {
    const card = freshCard();
    expect(generate(card, 0x9a, 0x07).statusWord).toBe(0x6982);
    expect(authenticateManagementKey(card, 0x03, DEFAULT_KEY)).toBe(0x9000);
    const generated = generate(card, 0x9a, 0x07);
    expect(generated.statusWord).toBe(0x9000);
    expect(toHexString(generated.data.subarray(0, 9))).toBe('7f49820109818201 00'.replace(' ', ''));
    expect(toHexString(generated.data.subarray(265))).toBe('8203010001');
    const publicKey = publicKeyFrom(generated.data);

    const message = new TextEncoder().encode('hello PIV');
    const block = pkcs1SignatureBlock(message, 256);
    expect(generalAuthenticate(card, 0x07, 0x9a, 0x81, block).statusWord).toBe(0x6982);
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(generalAuthenticate(card, 0x11, 0x9a, 0x81, block).statusWord).toBe(0x6a86);
    const signed = generalAuthenticate(card, 0x07, 0x9a, 0x81, block);
    expect(signed.statusWord).toBe(0x9000);
    expect(toHexString(signed.data.subarray(0, 8))).toBe('7c82010482820100');
    expect(verify('sha256', message, publicKey, authenticationResult(signed.data))).toBe(true);
  });

  it('answers a 2048-bit signature with 61 08 after 256 bytes (SP 800-73 part 2 appendix shape)', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    generate(card, 0x9e, 0x07);
    const block = pkcs1SignatureBlock(new Uint8Array(1), 256);
    const inner = Buffer.concat([hex('820081820100'), block]);
    const template = Buffer.concat([hex('7c820106'), inner]);
    expect(transmit(card, Buffer.concat([hex('1087079eff'), template.subarray(0, 255)])).statusWord).toBe(0x9000);
    const last = template.subarray(255);
    const first = transmit(card, Buffer.concat([hex('0087079e'), Buffer.of(last.length), last, Buffer.of(0)]));
    expect(first.statusWord).toBe(0x6108);
    expect(first.data.length).toBe(256);
    const rest = transmit(card, '00c0000008');
    expect(rest.statusWord).toBe(0x9000);
    expect(rest.data.length).toBe(8);
  });

  it('decrypts RSA with 9D (raw private operation; the host removes the padding)', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const publicKey = publicKeyFrom(generate(card, 0x9d, 0x07).data);
    const ciphertext = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from('secret session key'),
    );
    verifyPin(card, '123456');
    const decrypted = authenticationResult(generalAuthenticate(card, 0x07, 0x9d, 0x81, ciphertext).data);
    expect(decrypted.length).toBe(256);
    expect(decrypted[0]).toBe(0);
    expect(decrypted[1]).toBe(2);
    expect(decrypted.subarray(decrypted.indexOf(0, 2) + 1).toString()).toBe('secret session key');
    expect(generalAuthenticate(card, 0x07, 0x9d, 0x81, new Uint8Array(255)).statusWord).toBe(0x6a80);
  });

  it('generates P-256 in 9C with PIN-always: each signature needs its own VERIFY', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const generated = generate(card, 0x9c, 0x11);
    expect(toHexString(generated.data.subarray(0, 6))).toBe('7f4943864104');
    const publicKey = publicKeyFrom(generated.data, 'P-256');
    const message = Buffer.from('sign me');
    const digest = createHash('sha256').update(message).digest();
    expect(verifyPin(card, '123456')).toBe(0x9000);
    const signed = generalAuthenticate(card, 0x11, 0x9c, 0x81, digest);
    expect(signed.statusWord).toBe(0x9000);
    const signature = authenticationResult(signed.data);
    expect(signature[0]).toBe(0x30);
    expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    expect(generalAuthenticate(card, 0x11, 0x9c, 0x81, digest).statusWord).toBe(0x6982);
    expect(verifyPin(card, '123456')).toBe(0x9000);
    expect(generalAuthenticate(card, 0x11, 0x9c, 0x81, digest).statusWord).toBe(0x9000);
    expect(generalAuthenticate(card, 0x11, 0x9c, 0x81, digest.subarray(1)).statusWord).toBe(0x6982);
  });

  it('signs with P-384 in 9E without any PIN', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const generated = generate(card, 0x9e, 0x14);
    expect(toHexString(generated.data.subarray(0, 6))).toBe('7f4963866104');
    transmit(card, SELECT_PIV);
    const message = Buffer.from('card authentication');
    const signed = generalAuthenticate(card, 0x14, 0x9e, 0x81, createHash('sha384').update(message).digest());
    expect(signed.statusWord).toBe(0x9000);
    expect(
      verify(
        'sha384',
        message,
        { key: publicKeyFrom(generated.data, 'P-384'), dsaEncoding: 'der' },
        authenticationResult(signed.data),
      ),
    ).toBe(true);
  });

  it('agrees on an ECDH secret with node:crypto (tag 85 → X coordinate)', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const generated = generate(card, 0x9d, 0x11);
    const cardPoint = generated.data.subarray(5);
    const peer = createECDH('prime256v1');
    const peerPoint = peer.generateKeys();
    verifyPin(card, '123456');
    const answer = generalAuthenticate(card, 0x11, 0x9d, 0x85, peerPoint);
    expect(answer.statusWord).toBe(0x9000);
    expect(toHexString(authenticationResult(answer.data))).toBe(toHexString(peer.computeSecret(cardPoint)));
    expect(generalAuthenticate(card, 0x11, 0x9d, 0x85, new Uint8Array(65).fill(4)).statusWord).toBe(0x6a80);
  });

  it('answers 6A88 for an empty slot, 6A86 for a bad key reference, 6A80 for an unsupported algorithm', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    expect(generalAuthenticate(card, 0x07, 0x9a, 0x81, new Uint8Array(256)).statusWord).toBe(0x6a88);
    expect(generate(card, 0x99, 0x07).statusWord).toBe(0x6a86);
    expect(generate(card, 0x9a, 0x16).statusWord).toBe(0x6a80); // RSA 4096 needs firmware 5.7
    expect(generate(card, 0x9a, 0xe0).statusWord).toBe(0x6a80);
  });

  it('imports RSA and EC keys (INS FE) whose signatures verify with the original public keys', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = rsa.privateKey.export({ format: 'jwk' });
    const part = (tag: number, value: string) => {
      const bytes = Buffer.from(value, 'base64url');
      const paddedBytes = Buffer.concat([Buffer.alloc(128 - bytes.length), bytes]);
      return Buffer.concat([Buffer.of(tag, 0x81, 0x80), paddedBytes]);
    };
    const rsaData = Buffer.concat([
      part(1, jwk.p!),
      part(2, jwk.q!),
      part(3, jwk.dp!),
      part(4, jwk.dq!),
      part(5, jwk.qi!),
      hex('aa0101'),
    ]);
    expect(exchange(card, 0xfe, 0x07, 0x9a, new Uint8Array(rsaData)).statusWord).toBe(0x9000);
    const block = pkcs1SignatureBlock(Buffer.from('imported'), 256);
    const signed = generalAuthenticate(card, 0x07, 0x9a, 0x81, block); // PIN policy never (AA 01)
    expect(signed.statusWord).toBe(0x9000);
    expect(verify('sha256', Buffer.from('imported'), rsa.publicKey, authenticationResult(signed.data))).toBe(true);
    expect(toHexString(exchange(card, 0xf7, 0x00, 0x9a).data.subarray(0, 11))).toBe(
      '010107020201010301020482'.slice(0, 22),
    );

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const scalar = Buffer.from(ec.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    expect(exchange(card, 0xfe, 0x11, 0x9e, new Uint8Array(Buffer.concat([hex('0620'), scalar]))).statusWord).toBe(
      0x9000,
    );
    const digest = createHash('sha256').update('ec import').digest();
    const ecSigned = generalAuthenticate(card, 0x11, 0x9e, 0x81, digest);
    expect(
      verify(
        'sha256',
        Buffer.from('ec import'),
        { key: ec.publicKey, dsaEncoding: 'der' },
        authenticationResult(ecSigned.data),
      ),
    ).toBe(true);
    // CRT values that do not belong together are refused.
    const broken = Buffer.from(rsaData);
    broken[3 * 131 + 10] = broken[3 * 131 + 10]! ^ 0xff;
    expect(exchange(card, 0xfe, 0x07, 0x9d, new Uint8Array(broken)).statusWord).toBe(0x6a80);
  });

  it('generates RSA 4096 on firmware 5.7 (the one slow test)', () => {
    const card = freshCard({ version: [5, 7, 1] });
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const generated = generate(card, 0x9a, 0x16);
    expect(generated.statusWord).toBe(0x9000);
    expect(toHexString(generated.data.subarray(0, 9))).toBe('7f4982020981820200');
  });
});

describe('YubiKey extensions', () => {
  it('reports version, serial and PIN/PUK/management metadata', () => {
    const card = freshCard();
    expect(toHexString(transmit(card, '00fd000000').data)).toBe('050403');
    expect(toHexString(transmit(card, '00f8000000').data)).toBe('00bc614e');
    expect(toHexString(transmit(card, '00f7008000').data)).toBe('0101ff05010106020303');
    expect(toHexString(transmit(card, '00f7009b00').data)).toBe('01010302020001050101');
    expect(transmit(card, '00f7009a00').statusWord).toBe(0x6a88);
    verifyPin(card, '000000');
    expect(toHexString(transmit(card, '00f7008000').data)).toBe('0101ff05010106020302');
    expect(transmit(new PivSimulator({ version: [4, 3, 7] }), '00f7008000').statusWord).toBe(0x6d00);
  });

  it('reports slot metadata after generation: algorithm, policies, origin, public key', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const generated = generate(card, 0x9c, 0x11);
    const metadata = transmit(card, '00f7009c00');
    expect(toHexString(metadata.data)).toBe(`010111020203010301010443${toHexString(generated.data.subarray(3))}`);
  });

  it('SET PIN RETRIES needs management key and PIN, then resets PIN and PUK', () => {
    const card = freshCard();
    expect(transmit(card, '00fa050600').statusWord).toBe(0x6982);
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    expect(transmit(card, '00fa050600').statusWord).toBe(0x6982);
    verifyPin(card, '123456');
    expect(transmit(card, '00fa050600').statusWord).toBe(0x9000);
    expect(transmit(card, '0020008000').statusWord).toBe(0x63c5);
    expect(toHexString(transmit(card, '00f7008100').data)).toBe('0101ff05010106020606');
  });

  it('RESET works only when PIN and PUK are blocked, and wipes keys', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    generate(card, 0x9a, 0x11);
    expect(transmit(card, '00fb000000').statusWord).toBe(0x6985);
    for (let attempt = 0; attempt < 3; attempt++) verifyPin(card, '000000');
    for (let attempt = 0; attempt < 3; attempt++) {
      exchange(card, 0x2c, 0x00, 0x80, new Uint8Array([...padded('00000000'), ...padded('123456')]));
    }
    expect(transmit(card, '00fb000000').statusWord).toBe(0x9000);
    expect(transmit(card, '00f7009a00').statusWord).toBe(0x6a88);
    expect(verifyPin(card, '123456')).toBe(0x9000);
  });

  it('answers ATTEST of an empty slot with 6A88 (attestation itself: piv-attestation.test.ts)', () => {
    expect(transmit(freshCard(), '00f99a0000').statusWord).toBe(0x6a88);
  });
});

describe('wire errors', () => {
  it('maps bad CLA, INS and lengths', () => {
    const card = freshCard();
    expect(transmit(card, '00e2000000').statusWord).toBe(0x6d00);
    expect(transmit(card, '80fd000000').statusWord).toBe(0x6e00);
    expect(transmit(card, '0cfd000000').statusWord).toBe(0x6882);
    expect(transmit(card, '00cb3fff05').statusWord).toBe(0x6700);
    expect(transmit(card, '00cb3fff').statusWord).toBe(0x6700);
  });

  it('never throws on random bytes and always answers a status word (property)', () => {
    const card = freshCard();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const response = card.process(bytes);
        expect(response.length).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 500 },
    );
  });
});

describe('persistence', () => {
  const directory = mkdtempSync(join(tmpdir(), 'piv-sim-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('round-trips keys, objects, PINs and counters through saveState/loadState (JSON)', () => {
    const card = freshCard();
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    const publicKey = publicKeyFrom(generate(card, 0x9a, 0x11).data, 'P-256');
    exchange(card, 0x24, 0x00, 0x80, new Uint8Array([...padded('123456'), ...padded('999999')]));
    verifyPin(card, '000000');
    const chuid = exchange(card, 0xcb, 0x3f, 0xff, hex('5c035fc102')).data;

    const restored = new PivSimulator();
    restored.loadState(JSON.parse(JSON.stringify(card.saveState())));
    restored.powerOn();
    expect(toHexString(exchange(restored, 0xcb, 0x3f, 0xff, hex('5c035fc102')).data)).toBe(toHexString(chuid));
    expect(transmit(restored, '0020008000').statusWord).toBe(0x63c2);
    expect(verifyPin(restored, '999999')).toBe(0x9000);
    const digest = createHash('sha256').update('persisted').digest();
    const signed = generalAuthenticate(restored, 0x11, 0x9a, 0x81, digest);
    expect(
      verify(
        'sha256',
        Buffer.from('persisted'),
        { key: publicKey, dsaEncoding: 'der' },
        authenticationResult(signed.data),
      ),
    ).toBe(true);
    expect(toHexString(transmit(restored, '00f8000000').data)).toBe('00bc614e');
  });

  it('writes every change to the state file and a new card picks it up', () => {
    const path = join(directory, 'card.json');
    const card = new PivSimulator({ stateFile: path });
    authenticateManagementKey(card, 0x03, DEFAULT_KEY);
    generate(card, 0x9d, 0x11);
    expect(JSON.parse(readFileSync(path, 'utf8')).keys['9d'].algorithm).toBe(0x11);
    const again = new PivSimulator({ stateFile: path });
    expect(transmit(again, '00f7009d00').statusWord).toBe(0x9000);
    expect(again.serial).toBe(card.serial);
  });

  it('rejects something that is not a state with SCARD_E_INVALID_PARAMETER', () => {
    expect(() => new PivSimulator().loadState({ format: 'other' })).toThrow(ScardError);
    expect(() => new PivSimulator({ pin: '12' })).toThrow(ScardError);
  });
});
