/**
 * The GIDS simulator on its own: personalization, SELECT answers, DO files and their ACLs, the PIN counter,
 * admin-key authentication (mutual and external), key files, generation, import, signature, decipherment,
 * ECDH, chaining, 61xx and persistence — byte for byte where docs/spec/gids.md gives bytes.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createSimulator,
  DEFAULT_ADMIN_KEY,
  GidsSimulator,
  INITIAL_MASTER_FILE,
  provisioningCommands,
} from './index.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Sends an APDU (hex or bytes); returns [data hex, status word]. */
function send(card: GidsSimulator, apdu: string | Uint8Array): [string, number] {
  const response = card.process(typeof apdu === 'string' ? hex(apdu) : apdu);
  const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
  return [toHex(response.subarray(0, response.length - 2)), sw];
}

function apdu(header: string, data: Uint8Array, le?: number): Uint8Array {
  const h = hex(header);
  if (data.length > 255) {
    const out = [...h, 0, data.length >> 8, data.length & 0xff, ...data];
    if (le !== undefined) out.push(0, 0);
    return Uint8Array.from(out);
  }
  return Uint8Array.from([...h, data.length, ...data, ...(le === undefined ? [] : [le & 0xff])]);
}

const tlv = (tag: number[], value: Uint8Array | number[]) => {
  const v = Uint8Array.from(value);
  const length =
    v.length < 0x80 ? [v.length] : v.length < 0x100 ? [0x81, v.length] : [0x82, v.length >> 8, v.length & 0xff];
  return Uint8Array.from([...tag, ...length, ...v]);
};

const getDo = (fid: number, tag: number) =>
  apdu(`00cb${fid.toString(16).padStart(4, '0')}`, Uint8Array.of(0x5c, 0x02, tag >> 8, tag & 0xff), 0);
const putDo = (fid: number, tag: number, value: Uint8Array) =>
  apdu(`00db${fid.toString(16).padStart(4, '0')}`, tlv([tag >> 8, tag & 0xff], value));

function mutualAuthenticate(card: GidsSimulator, key: Uint8Array): number {
  expect(send(card, '002 2c1a4 03 830180'.replace(/ /g, ''))[1]).toBe(0x9000);
  const r1 = randomBytes(16);
  const [first, sw1] = send(card, apdu('00870000', tlv([0x7c], tlv([0x81], r1)), 0));
  expect(sw1).toBe(0x9000);
  const r2 = hex(first).subarray(4);
  const plain = Buffer.concat([r2, r1, randomBytes(7), Buffer.of(0x80)]);
  const cipher = createCipheriv('des-ede3-cbc', key, Buffer.alloc(8)).setAutoPadding(false);
  const c1 = Buffer.concat([cipher.update(plain), cipher.final()]);
  const [second, sw2] = send(card, apdu('00870000', tlv([0x7c], tlv([0x82], c1)), 0));
  if (sw2 !== 0x9000) return sw2;
  const decipher = createDecipheriv('des-ede3-cbc', key, Buffer.alloc(8)).setAutoPadding(false);
  const c2 = Buffer.concat([decipher.update(hex(second).subarray(4)), decipher.final()]);
  expect(second.slice(0, 8)).toBe('7c2a8228');
  expect(toHex(c2.subarray(0, 16))).toBe(toHex(r1));
  expect(toHex(c2.subarray(16, 32))).toBe(toHex(r2));
  expect(c2[39]).toBe(0x80);
  return sw2;
}

/** A key file FCP as OpenSC writes it (docs/spec/gids.md §4.5): `templates` = [CRT tag, algorithm] pairs. */
function keyFileFcp(kid: number, templates: readonly (readonly [number, number])[]): Uint8Array {
  const body = templates.flatMap(([crt, alg]) => [crt, 0x09, 0x80, 0x01, alg, 0x83, 0x01, kid, 0x95, 0x01, 0x40]);
  const inner = [0x82, 0x01, 0x18, 0x83, 0x02, 0xb0, kid, 0x8c, 0x05, 0x8f, 0x10, 0x10, 0x10, 0x00];
  return Uint8Array.from([0x62, inner.length + 2 + body.length, ...inner, 0xa5, body.length, ...body]);
}

/** OpenSC's key file FCP for an AT_KEYEXCHANGE container. */
function keyExchangeFcp(kid: number, a: number): Uint8Array {
  return keyFileFcp(kid, [
    [0xb8, a],
    [0xb8, 0x80 + a],
    [0xb8, 0x40 + a],
    [0xb6, 0x10 + a],
    [0xb6, 0x50 + a],
  ]);
}

describe('GIDS simulator', () => {
  it('is personalized like gids-tool: master file, cardapps, cardcf, cmapfile, cardid at their GIDS locations', () => {
    const cardId = randomBytes(16);
    const card = new GidsSimulator({ cardId });
    expect(toHex(INITIAL_MASTER_FILE)).toBe(
      '016d736370000000000000000000000000000000000000000000a00000000000000000000000636172646964000000000020df000012a0000000000000000000000063617264617070730000002' +
        '1df000010a00000000000000000000000636172646366000000000022df000010a000006d7363700000000000636d617066696c6500000023df000010a00000',
    );
    expect(send(card, getDo(0xa000, 0xdf1f))).toEqual([`df1f818d${toHex(INITIAL_MASTER_FILE)}`, 0x9000]);
    expect(send(card, getDo(0xa010, 0xdf21))).toEqual(['df21086d73637000000000', 0x9000]);
    expect(send(card, getDo(0xa010, 0xdf22))).toEqual(['df2206000000000000', 0x9000]);
    expect(send(card, getDo(0xa010, 0xdf23))).toEqual(['df2300', 0x9000]);
    expect(send(card, getDo(0xa012, 0xdf20))).toEqual([`df2010${toHex(cardId)}`, 0x9000]);
    expect(send(card, getDo(0xa010, 0xdf24))[1]).toBe(0x6a82);
    expect(card.operational).toBe(true);
  });

  it('answers SELECT with the FCI, FCP and FMD of docs/spec/gids.md §1, and 6A82 to other AIDs', () => {
    const card = new GidsSimulator();
    expect(send(card, '00a4040009a0000003974254465900')).toEqual([
      '61124f0ba0000003974254465902017303400 1c0'.replace(' ', ''),
      0x9000,
    ]);
    expect(send(card, '00a4040409a0000003974254465900')).toEqual(['620882013 88c03033030'.replace(' ', ''), 0x9000]);
    expect(send(card, '00a4040809a0000003974254465900')).toEqual([
      '64095f2f01607f65028000'.replace('60', '40'),
      0x9000,
    ]);
    expect(send(card, '00a4040c09a00000039742544659')).toEqual(['', 0x9000]);
    expect(send(card, '00a4040005a00000030800')[1]).toBe(0x6a82);
    expect(send(card, '00a4000c023fff')).toEqual(['', 0x9000]);
  });

  it('counts wrong PINs (63Cx), blocks at zero (6984), reports 7F71, and VERIFY 82 deauthenticates', () => {
    const card = new GidsSimulator({ pin: '1234' });
    expect(send(card, '00cb3fff045c027f7100')).toEqual(['7f71069701039301 03'.replace(' ', ''), 0x9000]);
    expect(send(card, '0020008000')[1]).toBe(0x63c3);
    expect(send(card, '002000800431313131')[1]).toBe(0x63c2);
    expect(send(card, '002000800431323334')[1]).toBe(0x9000);
    expect(send(card, '0020008000')[1]).toBe(0x9000);
    expect(send(card, '0020008200')[1]).toBe(0x9000);
    expect(send(card, '0020008000')[1]).toBe(0x63c3);
    for (const left of [2, 1, 0]) expect(send(card, '002000800431313131')[1]).toBe(0x63c0 | left);
    expect(send(card, '002000800431323334')[1]).toBe(0x6984);
    expect(send(card, '00cb3fff045c027f7100')[0]).toBe('7f71069701009301 03'.replace(' ', ''));
    expect(send(card, '00cb3fff045c027f7300')[1]).toBe(0x6a88);
  });

  it('unblocks the PIN only after admin authentication (RESET RETRY COUNTER 02 80), then forgets the admin', () => {
    const card = new GidsSimulator({ pin: '1234' });
    for (let i = 0; i < 3; i++) send(card, '002000800431313131');
    expect(send(card, '002c02800435363738')[1]).toBe(0x6982);
    expect(mutualAuthenticate(card, DEFAULT_ADMIN_KEY)).toBe(0x9000);
    expect(send(card, '002c02800435363738')[1]).toBe(0x9000);
    expect(send(card, putDo(0xa012, 0xdf20, randomBytes(16)))[1]).toBe(0x6982);
    expect(send(card, '002000800435363738')[1]).toBe(0x9000);
  });

  it('changes the PIN with old ‖ new, split at the stored length', () => {
    const card = new GidsSimulator({ pin: '1234' });
    expect(send(card, '00240080083131313135353535')[1]).toBe(0x63c2);
    expect(send(card, '0024008009313233343536373839')[1]).toBe(0x9000);
    expect(send(card, '00200080053536373839')[1]).toBe(0x9000);
  });

  it('enforces the DO files ACLs: A010 user write / everyone read, A012 admin write, A013 user read', () => {
    const card = new GidsSimulator();
    expect(send(card, putDo(0xa010, 0xdf24, hex('0102')))[1]).toBe(0x6982);
    expect(send(card, getDo(0xa013, 0xdf20))[1]).toBe(0x6982);
    send(card, apdu('00200080', Buffer.from('12345678')));
    expect(send(card, putDo(0xa010, 0xdf24, hex('0102')))[1]).toBe(0x9000);
    expect(send(card, getDo(0xa010, 0xdf24))).toEqual(['df24020102', 0x9000]);
    expect(send(card, putDo(0xa012, 0xdf20, randomBytes(16)))[1]).toBe(0x6982);
    expect(send(card, getDo(0xa013, 0xdf20))[1]).toBe(0x6a82);
    expect(mutualAuthenticate(card, DEFAULT_ADMIN_KEY)).toBe(0x9000);
    expect(send(card, putDo(0xa012, 0xdf20, hex('00112233445566778899aabbccddeeff')))[1]).toBe(0x9000);
    expect(send(card, putDo(0xa011, 0xdf20, hex('01')))[1]).toBe(0x9000);
    expect(send(card, getDo(0xa011, 0xdf20))[1]).toBe(0x6982);
  });

  it('empty PUT DATA stores an empty object; a second one deletes it', () => {
    const card = new GidsSimulator();
    send(card, apdu('00200080', Buffer.from('12345678')));
    send(card, putDo(0xa010, 0xdf30, hex('01')));
    expect(send(card, putDo(0xa010, 0xdf30, new Uint8Array(0)))[1]).toBe(0x9000);
    expect(send(card, getDo(0xa010, 0xdf30))).toEqual(['df3000', 0x9000]);
    expect(send(card, putDo(0xa010, 0xdf30, new Uint8Array(0)))[1]).toBe(0x9000);
    expect(send(card, getDo(0xa010, 0xdf30))[1]).toBe(0x6a82);
  });

  it('takes chained PUT DATA, answers long objects with 61xx + GET RESPONSE, and says 6A84 when full', () => {
    const card = new GidsSimulator({ capacity: 4000 });
    send(card, apdu('00200080', Buffer.from('12345678')));
    const value = randomBytes(1000);
    const command = tlv([0xdf, 0x25], value);
    for (let offset = 0; offset < command.length; offset += 255) {
      const block = command.subarray(offset, offset + 255);
      const last = offset + 255 >= command.length;
      expect(send(card, Uint8Array.from([last ? 0x00 : 0x10, 0xdb, 0xa0, 0x10, block.length, ...block]))[1]).toBe(
        0x9000,
      );
    }
    let [data, sw] = send(card, getDo(0xa010, 0xdf25));
    let all = data;
    while ((sw & 0xff00) === 0x6100) {
      [data, sw] = send(card, `00c00000${(sw & 0xff).toString(16).padStart(2, '0')}`);
      all += data;
    }
    expect(sw).toBe(0x9000);
    expect(all).toBe(`df258203e8${toHex(value)}`);
    expect(send(card, putDo(0xa010, 0xdf26, randomBytes(3000)))[1]).toBe(0x6a84);
    expect(send(card, getDo(0xa010, 0xdf26))[1]).toBe(0x6a82);
  });

  it('refuses a wrong admin response (6982) and accepts external authentication with 3DES of the challenge', () => {
    const card = new GidsSimulator();
    expect(mutualAuthenticate(card, randomBytes(24))).toBe(0x6982);
    expect(send(card, '0022 81a4 03 830180'.replace(/ /g, ''))[1]).toBe(0x9000);
    const [challenge] = send(card, '00870000047c02810000');
    expect(challenge).toMatch(/^7c0a8108[0-9a-f]{16}$/);
    const cipher = createCipheriv('des-ede3', DEFAULT_ADMIN_KEY, null).setAutoPadding(false);
    const response = Buffer.concat([cipher.update(hex(challenge).subarray(4)), cipher.final()]);
    expect(send(card, apdu('00870000', tlv([0x7c], tlv([0x82], response))))[1]).toBe(0x9000);
    expect(send(card, putDo(0xa012, 0xdf20, randomBytes(16)))[1]).toBe(0x9000);
    // Replay: the challenge is gone.
    expect(send(card, apdu('00870000', tlv([0x7c], tlv([0x82], response))))[1]).toBe(0x6985);
  });

  it('creates a key file, generates RSA 2048, reads 7F49, signs (PKCS#1 by the card) and deciphers', () => {
    const card = new GidsSimulator();
    expect(send(card, apdu('00e00000', keyExchangeFcp(0x81, 0x07)))[1]).toBe(0x6982);
    send(card, apdu('00200080', Buffer.from('12345678')));
    expect(send(card, apdu('00e00000', keyExchangeFcp(0x81, 0x07)))[1]).toBe(0x9000);
    expect(send(card, '00440000')[1]).toBe(0x9000);
    expect(send(card, apdu('00e00000', keyExchangeFcp(0x81, 0x07)))[1]).toBe(0x6a89);
    expect(send(card, '00470000 08 ac06 800107 830181'.replace(/ /g, ''))[1]).toBe(0x9000);
    let [pub, sw] = send(card, '00cb3fff0a7008840181a5037f498000');
    let all = pub;
    while ((sw & 0xff00) === 0x6100) {
      [pub, sw] = send(card, '00c0000000');
      all += pub;
    }
    expect(all).toMatch(/^7f4982010981820100[0-9a-f]{512}8203010001$/);
    const publicKey = card.publicKey(0x81)!;
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const digestInfo = Buffer.concat([
      hex('3031300d060960864801650304020105000420'),
      createHash('sha256').update('hi').digest(),
    ]);
    expect(send(card, '0022 41b6 06 800157 840181'.replace(/ /g, ''))[1]).toBe(0x9000);
    const [signature, signSw] = send(card, apdu('002a9e9a', digestInfo, 0));
    expect(signSw).toBe(0x9000);
    expect(verify('sha256', Buffer.from('hi'), publicKey, hex(signature))).toBe(true);
    const secret = randomBytes(32);
    const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    expect(send(card, '0022 41b8 06 800147 840181'.replace(/ /g, ''))[1]).toBe(0x9000);
    // OpenSC's form: padding indicator 00 in front, chained.
    const data = Buffer.concat([Buffer.of(0), ciphertext]);
    expect(send(card, Uint8Array.from([0x10, 0x2a, 0x80, 0x86, 0xff, ...data.subarray(0, 255)]))[1]).toBe(0x9000);
    expect(send(card, Uint8Array.from([0x00, 0x2a, 0x80, 0x86, 0x02, ...data.subarray(255), 0x00]))).toEqual([
      toHex(secret),
      0x9000,
    ]);
    // Raw decipher and signature algorithms not in the file's templates are refused.
    expect(send(card, '0022 41b6 06 800147 840181'.replace(/ /g, ''))[1]).toBe(0x6a80);
    // Deauthenticated: the key cannot be used.
    send(card, '0020008200');
    expect(send(card, '0022 41b6 06 800157 840181'.replace(/ /g, ''))[1]).toBe(0x9000);
    expect(send(card, apdu('002a9e9a', digestInfo, 0))[1]).toBe(0x6982);
  });

  it('imports an RSA key (PKCS#1 in 87) and refuses inconsistent CRT parameters', () => {
    const card = new GidsSimulator();
    send(card, apdu('00200080', Buffer.from('12345678')));
    send(card, apdu('00e00000', keyExchangeFcp(0x82, 0x06)));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const der = privateKey.export({ format: 'der', type: 'pkcs1' });
    const body = tlv(
      [0x70],
      [...tlv([0x84], [0x82]), ...tlv([0xa5], [...tlv([0x83], [2]), ...tlv([0x84], [0]), ...tlv([0x87], der)])],
    );
    expect(send(card, apdu('00db3fff', body))[1]).toBe(0x9000);
    expect(card.publicKey(0x82)!.export({ format: 'der', type: 'spki' })).toEqual(
      publicKey.export({ format: 'der', type: 'spki' }),
    );
    const broken = Buffer.from(der);
    broken[broken.length - 3]! ^= 1;
    const bad = tlv([0x70], [...tlv([0x84], [0x82]), ...tlv([0xa5], tlv([0x87], broken))]);
    expect(send(card, apdu('00db3fff', bad))[1]).toBe(0x6a80);
  });

  for (const [mechanism, curve, hashName, size] of [
    [0x0b, 'secp224r1', 'sha224', 28],
    [0x0c, 'prime256v1', 'sha256', 32],
    [0x0d, 'secp384r1', 'sha384', 48],
    [0x0e, 'secp521r1', 'sha512', 66],
  ] as const) {
    it(`generates ${curve} keys that sign (ECDSA over the host hash, r ‖ s) and agree (ECDH)`, () => {
      const card = new GidsSimulator();
      send(card, apdu('00200080', Buffer.from('12345678')));
      const fcp = keyFileFcp(0x83, [
        [0xb6, 0x10 | mechanism],
        [0xb8, mechanism],
      ]);
      const m = mechanism.toString(16).padStart(2, '0');
      expect(send(card, apdu('00e00000', fcp))[1]).toBe(0x9000);
      expect(send(card, `0047000008ac068001${m}830183`)[1]).toBe(0x9000);
      const [template] = send(card, '00cb3fff0a7008840183a5037f498000');
      const publicKey = card.publicKey(0x83)!;
      const spki = publicKey.export({ format: 'der', type: 'spki' });
      const point = spki.subarray(spki.length - 1 - 2 * size);
      expect(point[0]).toBe(0x04);
      // 7F49 { 86 <04 X Y> }, with long-form lengths for P-521.
      expect(template.startsWith('7f49')).toBe(true);
      expect(template.endsWith(point.toString('hex'))).toBe(true);
      const hash = createHash(hashName).update('ec').digest();
      send(card, `002241b6068001${(0x10 | mechanism).toString(16)}840183`);
      const [signature] = send(card, apdu('002a9e9a', hash, 0));
      expect(signature).toHaveLength(4 * size);
      expect(verify(hashName, Buffer.from('ec'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, hex(signature))).toBe(
        true,
      );
      const peer = createECDH(curve);
      peer.generateKeys();
      send(card, `002241b8068001${m}840183`);
      const [shared] = send(card, apdu('002a8086', peer.getPublicKey(), 0));
      expect(shared).toBe(peer.computeSecret(point).toString('hex'));
      expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(curve);
    });
  }

  it('deletes a key file (select + DELETE FILE) only with the user PIN', () => {
    const card = new GidsSimulator();
    send(card, apdu('00200080', Buffer.from('12345678')));
    send(card, apdu('00e00000', keyExchangeFcp(0x81, 0x06)));
    send(card, '0020008200');
    expect(send(card, '00a4000c02b081')[1]).toBe(0x9000);
    expect(send(card, '00e40000')[1]).toBe(0x6982);
    send(card, apdu('00200080', Buffer.from('12345678')));
    expect(send(card, '00a4000c02b081')[1]).toBe(0x9000);
    expect(send(card, '00e40000')[1]).toBe(0x9000);
    expect(send(card, '00a4000c02b081')[1]).toBe(0x6a82);
  });

  it('a blank card accepts the personalization of gids-tool and becomes operational; then it is locked', () => {
    const card = new GidsSimulator({ blank: true });
    expect(card.operational).toBe(false);
    expect(send(card, getDo(0xa000, 0xdf1f))[1]).toBe(0x6a82);
    for (const command of provisioningCommands({
      pin: Buffer.from('4321'),
      adminKey: DEFAULT_ADMIN_KEY,
      cardId: randomBytes(16),
    })) {
      expect(send(card, command)[1]).toBe(0x9000);
    }
    expect(card.operational).toBe(true);
    expect(send(card, apdu('00e00000', hex('620c8201398302a0208c0303300000')))[1]).toBe(0x6982);
    expect(send(card, '002000800434333231')[1]).toBe(0x9000);
  });

  it('keeps its memory through saveState / loadState, and forgets the PIN on reset', () => {
    const card = new GidsSimulator();
    send(card, apdu('00200080', Buffer.from('12345678')));
    send(card, putDo(0xa010, 0xdf24, hex('aabb')));
    send(card, apdu('00e00000', keyExchangeFcp(0x81, 0x06)));
    send(card, '00470000 08 ac06 800106 830181'.replace(/ /g, ''));
    const copy = new GidsSimulator({ blank: true });
    copy.loadState(JSON.parse(JSON.stringify(card.saveState())));
    expect(send(copy, getDo(0xa010, 0xdf24))).toEqual(['df2402aabb', 0x9000]);
    expect(copy.publicKey(0x81)!.export({ format: 'der', type: 'spki' })).toEqual(
      card.publicKey(0x81)!.export({ format: 'der', type: 'spki' }),
    );
    expect(send(copy, putDo(0xa010, 0xdf24, hex('01')))[1]).toBe(0x6982);
    expect(() => copy.loadState({ format: 'other' })).toThrow(/invalid GIDS simulator state/);
  });

  it('answers malformed commands with status words, never by throwing', () => {
    const card = new GidsSimulator();
    for (const command of [
      '00',
      '00cb3fff',
      '00cb3fff03 5c02'.replace(' ', ''),
      '0cb3fff00',
      '80ca000000',
      '00ff000000',
      '00db3fff027001',
      '00e00000026200',
    ]) {
      const response = card.process(hex(command));
      expect(response.length).toBeGreaterThanOrEqual(2);
      expect(response[response.length - 2]).not.toBe(0x90);
    }
  });

  it('createSimulator derives the cardid from a seed (reproducible cards for tools), else a random one', () => {
    const a = createSimulator({ seed: 'demo' }).dataObject(0xa012, 0xdf20);
    expect(a).toEqual(createSimulator({ seed: 'demo' }).dataObject(0xa012, 0xdf20));
    expect(a).not.toEqual(createSimulator({ seed: 'other' }).dataObject(0xa012, 0xdf20));
    expect(createSimulator().dataObject(0xa012, 0xdf20)).not.toEqual(createSimulator().dataObject(0xa012, 0xdf20));
  });
});
