import {
  constants,
  createECDH,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  verify as verifySignature,
} from 'node:crypto';
import { decodeTlv, findTlv } from '@minidriver/iso7816';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenPgpSimulator } from './openpgp-simulator.js';
import {
  bytes,
  generate,
  getData,
  hexOf,
  publicKeyFrom7F49,
  putData,
  select,
  send,
  text,
  verify,
} from './openpgp-test-support.js';

// DigestInfo prefix for SHA-256 (PKCS#1 / docs/spec/openpgp.md §4.3).
const SHA256_DIGEST_INFO = bytes('3031300d060960864801650304020105000420');
const P256_OID = '2A8648CE3D030107';

function digestInfo(message: Uint8Array): Uint8Array {
  return Uint8Array.from([...SHA256_DIGEST_INFO, ...createHash('sha256').update(message).digest()]);
}

async function freshCard(): Promise<OpenPgpSimulator> {
  const card = new OpenPgpSimulator({ serial: 0x00000042, manufacturer: 0xf517 });
  expect((await select(card)).statusWord).toBe(0x9000);
  return card;
}

describe('OpenPgpSimulator: selection and data objects', () => {
  it("presents the OpenPGP card v3 ATR from OpenSC's table and answers SELECT with 9000", async () => {
    const card = await freshCard();
    expect(hexOf(card.atr)).toBe('3BDA18FF81B1FE751F030031F573C001600090001C');
    const unknown = await send(card, { ins: 0xa4, p1: 0x04, p2: 0x00, data: bytes('A000000308'), le: 256 });
    expect(unknown.statusWord).toBe(0x6a82);
    const efGdo = await send(card, { ins: 0xa4, p1: 0x00, p2: 0x0c, data: bytes('2F02') });
    expect(efGdo.statusWord).toBe(0x6a82);
  });

  it('answers GET DATA 4F with the AID carrying version 3.4, manufacturer and serial', async () => {
    const card = await freshCard();
    const aid = await getData(card, 0x4f);
    expect(aid.statusWord).toBe(0x9000);
    expect(hexOf(aid.data)).toBe('D2760001240103 04F5170000004200 00'.replace(/\s/g, ''));
  });

  it('builds 6E with AID, historical bytes, 7F66 and the discretionary DOs', async () => {
    const card = await freshCard();
    const reply = await getData(card, 0x6e);
    expect(reply.statusWord).toBe(0x9000);
    const nodes = decodeTlv(reply.data);
    expect(hexOf(findTlv(nodes, 0x6e, 0x4f)!.value)).toBe('D276000124010304F51700000042' + '0000');
    expect(hexOf(findTlv(nodes, 0x6e, 0x5f52)!.value)).toBe('0031F573C00160009000');
    expect(hexOf(findTlv(nodes, 0x6e, 0x7f66)!.value)).toBe('020209000202' + '0900');
    expect(hexOf(findTlv(nodes, 0x6e, 0x73, 0xc0)!.value)).toBe('7C000800080000FF0001');
    expect(hexOf(findTlv(nodes, 0x6e, 0x73, 0xc1)!.value)).toBe('010800002000');
    expect(hexOf(findTlv(nodes, 0x6e, 0x73, 0xc4)!.value)).toBe('007F7F7F030003');
    expect(findTlv(nodes, 0x6e, 0x73, 0xc5)!.value).toEqual(new Uint8Array(60));
    expect(findTlv(nodes, 0x6e, 0x73, 0xcd)!.value).toEqual(new Uint8Array(12));
    expect(hexOf(findTlv(nodes, 0x6e, 0x73, 0xde)!.value)).toBe('010002000300');
  });

  it('answers 65, 5E, C4, 7A and 5F52, and 6A88 for the absent KDF-DO', async () => {
    const card = await freshCard();
    expect(hexOf((await getData(card, 0x65)).data)).toBe('65095B005F2D005F350139');
    expect((await getData(card, 0x5e)).data.length).toBe(0);
    expect(hexOf((await getData(card, 0xc4)).data)).toBe('007F7F7F030003');
    expect(hexOf((await getData(card, 0x7a)).data)).toBe('7A0593030000' + '00');
    expect((await getData(card, 0xf9)).statusWord).toBe(0x6a88);
  });

  it('writes cardholder data and URL under PW3 only', async () => {
    const card = await freshCard();
    expect((await putData(card, 0x5b, text('Doe<<John'))).statusWord).toBe(0x6982);
    expect((await verify(card, 0x83, '12345678')).statusWord).toBe(0x9000);
    expect((await putData(card, 0x5b, text('Doe<<John'))).statusWord).toBe(0x9000);
    expect((await putData(card, 0x5f2d, text('en'))).statusWord).toBe(0x9000);
    expect((await putData(card, 0x5f35, Uint8Array.of(0x31))).statusWord).toBe(0x9000);
    expect((await putData(card, 0x5f50, text('https://example.org/key.asc'))).statusWord).toBe(0x9000);
    expect(hexOf((await getData(card, 0x65)).data)).toBe(
      hexOf(
        Uint8Array.of(
          0x65,
          0x14,
          0x5b,
          0x09,
          ...text('Doe<<John'),
          0x5f,
          0x2d,
          0x02,
          ...text('en'),
          0x5f,
          0x35,
          0x01,
          0x31,
        ),
      ),
    );
    expect(new TextDecoder().decode((await getData(card, 0x5f50)).data)).toBe('https://example.org/key.asc');
  });

  it('guards private DOs: 0103 needs PW1 (82) to read, 0104 needs PW3', async () => {
    const card = await freshCard();
    expect((await getData(card, 0x0103)).statusWord).toBe(0x6982);
    expect((await verify(card, 0x82, '123456')).statusWord).toBe(0x9000);
    expect((await putData(card, 0x0101, text('one'))).statusWord).toBe(0x9000);
    expect((await putData(card, 0x0102, text('two'))).statusWord).toBe(0x6982);
    expect((await getData(card, 0x0103)).statusWord).toBe(0x9000);
    expect((await getData(card, 0x0104)).statusWord).toBe(0x6982);
    expect(new TextDecoder().decode((await getData(card, 0x0101)).data)).toBe('one');
  });

  it('keeps three certificates reachable with SELECT DATA and GET NEXT DATA', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const certificate = new Uint8Array(1500).map((_, index) => index & 0xff);
    const selectData = (occurrence: number) =>
      send(card, { ins: 0xa5, p1: occurrence, p2: 0x04, data: bytes('60045C027F21') });
    expect((await selectData(2)).statusWord).toBe(0x9000);
    expect((await putData(card, 0x7f21, certificate)).statusWord).toBe(0x9000);
    expect((await selectData(0)).statusWord).toBe(0x9000);
    expect((await getData(card, 0x7f21)).data.length).toBe(0);
    const next = await send(card, { ins: 0xcc, p1: 0x7f, p2: 0x21, le: 65536 }, true);
    expect(next.data.length).toBe(0);
    const last = await send(card, { ins: 0xcc, p1: 0x7f, p2: 0x21, le: 65536 }, true);
    expect(last.data).toEqual(certificate);
    // YubiKey's extra length byte form is accepted too.
    expect((await send(card, { ins: 0xa5, p1: 2, p2: 0x04, data: bytes('0660045C027F21') })).statusWord).toBe(0x9000);
    expect((await getData(card, 0x7f21, true)).data).toEqual(certificate);
    expect((await selectData(3)).statusWord).toBe(0x6a88);
  });

  it('returns long answers in 61xx pieces for short APDUs (GET RESPONSE)', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    await putData(card, 0x7f21, new Uint8Array(600).fill(0xab));
    const first = await getData(card, 0x7f21);
    expect(first.statusWord).toBe(0x6100);
    expect(first.data.length).toBe(256);
    const second = await send(card, { ins: 0xc0, p1: 0, p2: 0, le: 256 });
    expect(second.statusWord).toBe(0x6158);
    const third = await send(card, { ins: 0xc0, p1: 0, p2: 0, le: 0x58 });
    expect(third.statusWord).toBe(0x9000);
    expect(first.data.length + second.data.length + third.data.length).toBe(600);
    expect((await send(card, { ins: 0xc0, p1: 0, p2: 0, le: 256 })).statusWord).toBe(0x6985);
  });

  it('answers GET CHALLENGE with Le random bytes', async () => {
    const card = await freshCard();
    const one = await send(card, { ins: 0x84, p1: 0, p2: 0, le: 32 });
    const two = await send(card, { ins: 0x84, p1: 0, p2: 0, le: 32 });
    expect(one.data.length).toBe(32);
    expect(one.data).not.toEqual(two.data);
  });

  it('rejects CLA with secure messaging, logical channels and the proprietary class', async () => {
    const card = await freshCard();
    expect((await send(card, { cla: 0x0c, ins: 0xca, p1: 0, p2: 0x6e, le: 256 })).statusWord).toBe(0x6882);
    expect((await send(card, { cla: 0x01, ins: 0xca, p1: 0, p2: 0x6e, le: 256 })).statusWord).toBe(0x6881);
    expect((await send(card, { cla: 0x80, ins: 0xf1, p1: 0, p2: 0, le: 256 })).statusWord).toBe(0x6e00);
    expect((await send(card, { ins: 0x12, p1: 0, p2: 0 })).statusWord).toBe(0x6d00);
  });

  it('answers every byte string with a status word and never throws (property)', async () => {
    const card = await freshCard();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (command) => {
        const response = await card.process(command);
        expect(response.length).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OpenPgpSimulator: robustness', () => {
  it('answers random data for every implemented INS with a defined status word, never 6F00 (property)', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    await putData(card, 0xc2, bytes(`12${P256_OID}`));
    await generate(card, 0xb6);
    await generate(card, 0xb8);
    const instructions = [0xca, 0xcc, 0xa5, 0xda, 0xdb, 0x2a, 0x88, 0x47, 0x84, 0x22, 0xc0];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...instructions),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        async (ins, p1, p2, data) => {
          // Keep PW1 verified so the key operations parse their input instead of stopping at 6982.
          await verify(card, 0x81, '123456');
          await verify(card, 0x82, '123456');
          const reply = await send(card, { ins, p1, p2, data, le: 65536 }, true);
          expect(reply.statusWord).not.toBe(0x6f00);
        },
      ),
      { numRuns: 400 },
    );
    // The card still works afterwards.
    expect((await getData(card, 0x6e)).statusWord).toBe(0x9000);
  });
});

describe('OpenPgpSimulator: PINs', () => {
  it('counts wrong PW1 tries, reports them with an empty VERIFY and blocks at zero', async () => {
    const card = await freshCard();
    expect((await verify(card, 0x81)).statusWord).toBe(0x63c3);
    expect((await verify(card, 0x81, '654321')).statusWord).toBe(0x6982);
    expect((await getData(card, 0xc4)).data[4]).toBe(2);
    expect((await verify(card, 0x82)).statusWord).toBe(0x63c2);
    expect((await verify(card, 0x82, '123456')).statusWord).toBe(0x9000);
    expect((await verify(card, 0x82)).statusWord).toBe(0x9000);
    // 82 does not grant 81: two access states on one PIN value.
    expect((await verify(card, 0x81)).statusWord).toBe(0x63c3);
    expect((await send(card, { ins: 0x20, p1: 0xff, p2: 0x82 })).statusWord).toBe(0x9000);
    expect((await verify(card, 0x82)).statusWord).toBe(0x63c3);
    for (let attempt = 0; attempt < 3; attempt++) expect((await verify(card, 0x81, '000000')).statusWord).toBe(0x6982);
    expect((await verify(card, 0x81, '123456')).statusWord).toBe(0x6983);
    expect((await verify(card, 0x81, '123')).statusWord).toBe(0x6983);
  });

  it('rejects PINs of the wrong length with 6700 without counting them', async () => {
    const card = await freshCard();
    expect((await verify(card, 0x81, '123')).statusWord).toBe(0x6700);
    expect((await verify(card, 0x83, '1234567')).statusWord).toBe(0x6700);
    expect(hexOf((await getData(card, 0xc4)).data)).toBe('007F7F7F030003');
  });

  it('changes PW1 and PW3 with CHANGE REFERENCE DATA (old ‖ new)', async () => {
    const card = await freshCard();
    const change = (reference: number, value: string) =>
      send(card, { ins: 0x24, p1: 0, p2: reference, data: text(value) });
    expect((await change(0x81, '000000' + '654321')).statusWord).toBe(0x6982);
    expect((await change(0x81, '123456' + '654321')).statusWord).toBe(0x9000);
    expect((await verify(card, 0x82, '123456')).statusWord).toBe(0x6982);
    expect((await verify(card, 0x82, '654321')).statusWord).toBe(0x9000);
    expect((await change(0x83, '12345678' + 'admin-pin-2')).statusWord).toBe(0x9000);
    expect((await verify(card, 0x83, 'admin-pin-2')).statusWord).toBe(0x9000);
    expect((await change(0x82, '654321' + '111111')).statusWord).toBe(0x6b00);
  });

  it('unblocks PW1 with the Resetting Code and with PW3 (RESET RETRY COUNTER)', async () => {
    const card = await freshCard();
    for (let attempt = 0; attempt < 3; attempt++) await verify(card, 0x81, '000000');
    expect((await getData(card, 0xc4)).data[4]).toBe(0);
    const resetWithCode = (value: string) => send(card, { ins: 0x2c, p1: 0x00, p2: 0x81, data: text(value) });
    expect((await resetWithCode('87654321' + '222222')).statusWord).toBe(0x6982);
    await verify(card, 0x83, '12345678');
    expect((await putData(card, 0xd3, text('87654321'))).statusWord).toBe(0x9000);
    expect((await getData(card, 0xc4)).data[5]).toBe(3);
    expect((await resetWithCode('87654320' + '222222')).statusWord).toBe(0x6982);
    expect((await getData(card, 0xc4)).data[5]).toBe(2);
    expect((await resetWithCode('87654321' + '222222')).statusWord).toBe(0x9000);
    expect((await verify(card, 0x82, '222222')).statusWord).toBe(0x9000);
    const resetByAdmin = await send(card, { ins: 0x2c, p1: 0x02, p2: 0x81, data: text('333333') });
    expect(resetByAdmin.statusWord).toBe(0x9000);
    expect((await verify(card, 0x81, '333333')).statusWord).toBe(0x9000);
    expect((await send(card, { ins: 0x2c, p1: 0x02, p2: 0x81, data: text('333') })).statusWord).toBe(0x6700);
  });
});

describe('OpenPgpSimulator: keys', () => {
  it('generates RSA-2048 only under PW3, answers 7F49 { 81 n, 82 e } and reads it back with 47 81', async () => {
    const card = await freshCard();
    expect((await generate(card, 0xb6)).statusWord).toBe(0x6982);
    expect((await generate(card, 0xb6, true)).statusWord).toBe(0x6a88);
    await verify(card, 0x83, '12345678');
    const generated = await generate(card, 0xb6);
    expect(generated.statusWord).toBe(0x9000);
    const nodes = decodeTlv(generated.data);
    expect(findTlv(nodes, 0x7f49, 0x81)!.value.length).toBe(256);
    expect(hexOf(findTlv(nodes, 0x7f49, 0x82)!.value)).toBe('010001');
    expect((await generate(card, 0xb6, true)).data).toEqual(generated.data);
    expect(hexOf((await getData(card, 0xde)).data)).toBe('010102000300');
  });

  it('signs a DigestInfo with PSO:CDS (PKCS#1 v1.5), consumes PW1 (81) and counts signatures', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const publicKey = publicKeyFrom7F49((await generate(card, 0xb6)).data);
    const message = text('message to sign');
    const pso = () => send(card, { ins: 0x2a, p1: 0x9e, p2: 0x9a, data: digestInfo(message), le: 256 });
    expect((await pso()).statusWord).toBe(0x6982);
    await verify(card, 0x81, '123456');
    const signature = await pso();
    expect(signature.statusWord).toBe(0x9000);
    expect(verifySignature('sha256', message, publicKey, signature.data)).toBe(true);
    // C4 byte 1 = 00: valid for one signature only.
    expect((await pso()).statusWord).toBe(0x6982);
    expect(hexOf((await getData(card, 0x7a)).data)).toBe('7A059303000001');
    // With C4 byte 1 = 01 the access state stays.
    await putData(card, 0xc4, Uint8Array.of(0x01));
    await verify(card, 0x81, '123456');
    expect((await pso()).statusWord).toBe(0x9000);
    expect((await pso()).statusWord).toBe(0x9000);
    expect(hexOf((await getData(card, 0x7a)).data)).toBe('7A059303000003');
  });

  it('generates P-256 after PUT DATA C1 and signs a hash with ECDSA, answering raw r ‖ s', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    expect((await putData(card, 0xc1, bytes(`13${P256_OID}`))).statusWord).toBe(0x9000);
    const generated = await generate(card, 0xb6);
    const point = findTlv(decodeTlv(generated.data), 0x7f49, 0x86)!.value;
    expect(point.length).toBe(65);
    expect(point[0]).toBe(0x04);
    const publicKey = publicKeyFrom7F49(generated.data, 'P-256');
    await verify(card, 0x81, '123456');
    const message = text('ecdsa message');
    const hash = createHash('sha256').update(message).digest();
    const signature = await send(card, { ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
    expect(signature.statusWord).toBe(0x9000);
    expect(signature.data.length).toBe(64);
    expect(verifySignature('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature.data)).toBe(
      true,
    );
  });

  it('refuses algorithm attributes it cannot do (6A80)', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    expect((await putData(card, 0xc1, bytes('010400002000'))).statusWord).toBe(0x6a80); // RSA-1024
    expect((await putData(card, 0xc1, bytes(`12${P256_OID}`))).statusWord).toBe(0x6a80); // ECDH in SIG
    expect((await putData(card, 0xc2, bytes('162B06010401DA470F01'))).statusWord).toBe(0x6a80); // EdDSA in DEC
  });

  it('deciphers RSA (padding indicator 00) sent extended and sent chained', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const publicKey = publicKeyFrom7F49((await generate(card, 0xb8)).data);
    const secret = text('session key 0123456789abcdef');
    const cryptogram = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    const input = Uint8Array.from([0x00, ...cryptogram]);
    expect((await send(card, { ins: 0x2a, p1: 0x80, p2: 0x86, data: input, le: 65536 }, true)).statusWord).toBe(0x6982);
    await verify(card, 0x82, '123456');
    const extended = await send(card, { ins: 0x2a, p1: 0x80, p2: 0x86, data: input, le: 65536 }, true);
    expect(extended.statusWord).toBe(0x9000);
    expect(extended.data).toEqual(secret);
    const head = await send(card, { cla: 0x10, ins: 0x2a, p1: 0x80, p2: 0x86, data: input.subarray(0, 200) });
    expect(head.statusWord).toBe(0x9000);
    const tail = await send(card, { ins: 0x2a, p1: 0x80, p2: 0x86, data: input.subarray(200), le: 256 });
    expect(tail.statusWord).toBe(0x9000);
    expect(tail.data).toEqual(secret);
  });

  it('deciphers ECDH P-256 from the A6 { 7F49 { 86 } } template', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    await putData(card, 0xc2, bytes(`12${P256_OID}`));
    const cardPoint = findTlv(decodeTlv((await generate(card, 0xb8)).data), 0x7f49, 0x86)!.value;
    const ephemeral = createECDH('prime256v1');
    const ephemeralPoint = ephemeral.generateKeys();
    const expected = ephemeral.computeSecret(cardPoint);
    await verify(card, 0x82, '123456');
    const template = Uint8Array.from([0xa6, 0x46, 0x7f, 0x49, 0x43, 0x86, 0x41, ...ephemeralPoint]);
    const reply = await send(card, { ins: 0x2a, p1: 0x80, p2: 0x86, data: template, le: 256 });
    expect(reply.statusWord).toBe(0x9000);
    expect(Buffer.from(reply.data).equals(expected)).toBe(true);
  });

  it('does Ed25519 signatures and X25519 decipher', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    expect((await putData(card, 0xc1, bytes('162B06010401DA470F01'))).statusWord).toBe(0x9000);
    expect((await putData(card, 0xc2, bytes('122B060104019755010501'))).statusWord).toBe(0x9000);
    const signingKey = publicKeyFrom7F49((await generate(card, 0xb6)).data, 'Ed25519');
    const decryptionGenerated = await generate(card, 0xb8);
    const decryptionKey = publicKeyFrom7F49(decryptionGenerated.data, 'X25519');
    await verify(card, 0x81, '123456');
    await verify(card, 0x82, '123456');
    const message = text('pure ed25519 message');
    const signature = await send(card, { ins: 0x2a, p1: 0x9e, p2: 0x9a, data: message, le: 256 });
    expect(signature.data.length).toBe(64);
    expect(verifySignature(null, message, signingKey, signature.data)).toBe(true);
    const ephemeral = generateKeyPairSync('x25519');
    const ephemeralPublic = Buffer.from(ephemeral.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const template = Uint8Array.from([0xa6, 0x25, 0x7f, 0x49, 0x22, 0x86, 0x20, ...ephemeralPublic]);
    const shared = await send(card, { ins: 0x2a, p1: 0x80, p2: 0x86, data: template, le: 256 });
    expect(shared.statusWord).toBe(0x9000);
    const expected = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: decryptionKey });
    expect(Buffer.from(shared.data).equals(expected)).toBe(true);
  });

  it('signs with the AUT key in INTERNAL AUTHENTICATE under PW1 (82)', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const publicKey = publicKeyFrom7F49((await generate(card, 0xa4)).data);
    const challenge = digestInfo(text('ssh challenge'));
    expect((await send(card, { ins: 0x88, p1: 0, p2: 0, data: challenge, le: 256 })).statusWord).toBe(0x6982);
    await verify(card, 0x82, '123456');
    const reply = await send(card, { ins: 0x88, p1: 0, p2: 0, data: challenge, le: 256 });
    expect(reply.statusWord).toBe(0x9000);
    expect(verifySignature('sha256', text('ssh challenge'), publicKey, reply.data)).toBe(true);
  });

  it('imports RSA (standard format) and P-256 keys with PUT DATA odd 4D', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = rsa.privateKey.export({ format: 'jwk' });
    const [e, p, q] = [jwk.e!, jwk.p!, jwk.q!].map((value) => Buffer.from(value, 'base64url'));
    const values = Buffer.concat([e!, p!, q!]);
    const template = Uint8Array.of(0x91, e!.length, 0x92, 0x81, p!.length, 0x93, 0x81, q!.length);
    const body = Uint8Array.from([
      0xb6,
      0x00,
      0x7f,
      0x48,
      template.length,
      ...template,
      0x5f,
      0x48,
      0x82,
      values.length >> 8,
      values.length & 0xff,
      ...values,
    ]);
    const header = Uint8Array.from([0x4d, 0x82, body.length >> 8, body.length & 0xff, ...body]);
    const imported = await send(card, { ins: 0xdb, p1: 0x3f, p2: 0xff, data: header }, true);
    expect(imported.statusWord).toBe(0x9000);
    expect(hexOf((await getData(card, 0xde)).data)).toBe('010202000300');
    const readBack = publicKeyFrom7F49((await generate(card, 0xb6, true)).data);
    expect(readBack.export({ format: 'jwk' }).n).toBe(jwk.n);
    await verify(card, 0x81, '123456');
    const message = text('imported');
    const signature = await send(card, { ins: 0x2a, p1: 0x9e, p2: 0x9a, data: digestInfo(message), le: 256 });
    expect(verifySignature('sha256', message, rsa.publicKey, signature.data)).toBe(true);

    await putData(card, 0xc3, bytes(`13${P256_OID}`));
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const scalar = Buffer.from(ec.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const ecBody = Uint8Array.from([0xa4, 0x00, 0x7f, 0x48, 0x02, 0x92, 0x20, 0x5f, 0x48, 0x20, ...scalar]);
    const ecHeader = Uint8Array.from([0x4d, ecBody.length, ...ecBody]);
    expect((await send(card, { ins: 0xdb, p1: 0x3f, p2: 0xff, data: ecHeader })).statusWord).toBe(0x9000);
    await verify(card, 0x82, '123456');
    const hash = createHash('sha256').update(message).digest();
    const ecSignature = await send(card, { ins: 0x88, p1: 0, p2: 0, data: hash, le: 256 });
    expect(verifySignature('sha256', message, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecSignature.data)).toBe(
      true,
    );
    expect((await send(card, { ins: 0xdb, p1: 0x3f, p2: 0xff, data: bytes('4D03B60000') })).statusWord).toBe(0x6a80);
  });

  it('lets MSE switch INTERNAL AUTHENTICATE to the DEC key', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const decryptionKey = publicKeyFrom7F49((await generate(card, 0xb8)).data);
    await verify(card, 0x82, '123456');
    const challenge = digestInfo(text('mse'));
    expect((await send(card, { ins: 0x88, p1: 0, p2: 0, data: challenge, le: 256 })).statusWord).toBe(0x6a88);
    expect((await send(card, { ins: 0x22, p1: 0x41, p2: 0xa4, data: bytes('830102') })).statusWord).toBe(0x9000);
    const reply = await send(card, { ins: 0x88, p1: 0, p2: 0, data: challenge, le: 256 });
    expect(verifySignature('sha256', text('mse'), decryptionKey, reply.data)).toBe(true);
  });

  it('reads a 7F49 longer than 256 bytes with short APDUs via 61xx', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    const full = (await generate(card, 0xa4)).data;
    const first = await send(card, { ins: 0x47, p1: 0x81, p2: 0x00, data: bytes('A400'), le: 256 });
    expect(first.statusWord).toBe(0x6100 | (full.length - 256));
    const rest = await send(card, { ins: 0xc0, p1: 0, p2: 0, le: full.length - 256 });
    expect(Uint8Array.from([...first.data, ...rest.data])).toEqual(full);
  });
});

describe('OpenPgpSimulator: life cycle and persistence', () => {
  it('factory-resets with TERMINATE DF then ACTIVATE FILE', async () => {
    const card = new OpenPgpSimulator({ pw1: '555555' });
    await select(card);
    expect((await send(card, { ins: 0xe6, p1: 0, p2: 0 })).statusWord).toBe(0x6982);
    await verify(card, 0x83, '12345678');
    await generate(card, 0xb6);
    await putData(card, 0x5b, text('Someone'));
    expect((await send(card, { ins: 0xe6, p1: 0, p2: 0 })).statusWord).toBe(0x9000);
    expect((await select(card)).statusWord).toBe(0x6285);
    expect((await getData(card, 0x6e)).statusWord).toBe(0x6985);
    expect((await send(card, { ins: 0x44, p1: 0, p2: 0 })).statusWord).toBe(0x9000);
    expect((await select(card)).statusWord).toBe(0x9000);
    expect((await generate(card, 0xb6, true)).statusWord).toBe(0x6a88);
    expect(hexOf((await getData(card, 0x65)).data)).toBe('65095B005F2D005F350139');
    // PINs are back to the factory defaults, not the constructor's.
    expect((await verify(card, 0x82, '123456')).statusWord).toBe(0x9000);
  });

  it('allows TERMINATE DF without PW3 once PW3 is blocked (the gpg factory-reset path)', async () => {
    const card = await freshCard();
    for (let attempt = 0; attempt < 3; attempt++) await verify(card, 0x83, 'wrongwrong');
    expect((await send(card, { ins: 0xe6, p1: 0, p2: 0 })).statusWord).toBe(0x9000);
  });

  it('survives a saveState / JSON / loadState round trip with keys, PINs and DOs', async () => {
    const card = await freshCard();
    await verify(card, 0x83, '12345678');
    await putData(card, 0xc1, bytes(`13${P256_OID}`));
    const generated = await generate(card, 0xb6);
    await putData(card, 0x5b, text('Saved<<Person'));
    await send(card, { ins: 0x24, p1: 0, p2: 0x81, data: text('123456' + '246810') });
    await verify(card, 0x82, '000000');
    const saved = JSON.parse(JSON.stringify(card.saveState()));
    const restored = new OpenPgpSimulator({ serial: 0x00000042, manufacturer: 0xf517 });
    restored.loadState(saved);
    await select(restored);
    expect((await generate(restored, 0xb6, true)).data).toEqual(generated.data);
    expect((await getData(restored, 0x65)).data).toEqual((await getData(card, 0x65)).data);
    expect((await getData(restored, 0xc4)).data[4]).toBe(2);
    expect((await verify(restored, 0x81, '246810')).statusWord).toBe(0x9000);
    const hash = createHash('sha256').update(text('after restore')).digest();
    const signature = await send(restored, { ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
    const publicKey = publicKeyFrom7F49(generated.data, 'P-256');
    expect(
      verifySignature('sha256', text('after restore'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature.data),
    ).toBe(true);
    expect(() => restored.loadState({ format: 'something else' })).toThrow(/not a saved OpenPGP/);
  });

  it('forgets access states on reset', async () => {
    const card = await freshCard();
    await verify(card, 0x82, '123456');
    card.reset();
    expect((await verify(card, 0x82)).statusWord).toBe(0x63c3);
  });
});
