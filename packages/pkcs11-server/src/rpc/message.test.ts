import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CKA, CKM } from '../pkcs11/constants.js';
import { type Attribute, readAttributes, writeAttributeLength, writeAttributes } from './attributes.js';
import { RPC_CALLS, RPC_HANDSHAKE, rpcCall } from './calls.js';
import { RpcRequest, RpcResponse } from './message.js';
import { RpcProtocolError, WireReader, WireWriter } from './wire.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

// Request bodies captured from p11-kit-client.so 0.24.1 (Debian) talking to `p11-kit server`, and the
// replies p11-kit's own server gave: our reader must accept the former and our writer produce the latter.
const INITIALIZE = fromHex(`00000001 00000005 6179796179 01 00000029 ${hex(RPC_HANDSHAKE)} 00 01 00000001 00`);
const GET_SLOT_LIST = fromHex('00000004 00000003 796675 00 00000001');
const GET_ATTRIBUTE_VALUE = fromHex(
  '00000018 00000004 75756641 0000000000000011 0000000000000015 00000001 00000000 00000008',
);

describe('RPC messages against real p11-kit traffic', () => {
  it('reads C_Initialize: the handshake, the reserved byte and the reserved array', () => {
    const request = new RpcRequest(INITIALIZE);
    expect(request.call?.name).toBe('C_Initialize');
    expect(Buffer.from(request.byteArray().data ?? []).equals(RPC_HANDSHAKE)).toBe(true);
    expect(request.byte()).toBe(0);
    expect(request.byteArray()).toEqual({ data: Uint8Array.of(0), length: 1 });
    request.end();
  });

  it('reads C_GetSlotList and writes the reply p11-kit writes', () => {
    const request = new RpcRequest(GET_SLOT_LIST);
    expect([request.byte(), request.ulongBuffer()]).toEqual([0, 1]);
    request.end();
    expect(hex(new RpcResponse(request.callId).ulongArray([0x11]).finish())).toBe(
      '00000004000000026175' + '01' + '00000001' + '0000000000000011',
    );
    expect(hex(new RpcResponse(request.callId).ulongArray(null, 1).finish())).toBe(
      '00000004000000026175' + '00' + '00000001',
    );
  });

  it('reads C_GetAttributeValue (uufA) and writes its aAu reply byte for byte', () => {
    const request = new RpcRequest(GET_ATTRIBUTE_VALUE);
    expect([request.ulong(), request.ulong()]).toEqual([0x11, 0x15]);
    expect(request.attributeBuffer()).toEqual([{ type: CKA.CLASS, capacity: 8 }]);
    request.end();
    const reply = new RpcResponse(request.callId)
      .attributeArray([{ type: CKA.CLASS, value: 1 }])
      .ulong(0)
      .finish();
    expect(hex(reply)).toBe(
      '00000018' +
        '00000003614175' +
        '00000001' +
        '00000000' +
        '01' +
        '00000008' +
        '0000000000000001' +
        '0000000000000000',
    );
    // A length-only answer (the client's buffer was NULL) and an invalid attribute, as p11-kit writes them.
    const lengths = new RpcResponse(24)
      .attributeEntries(2, (writer, index) => {
        if (index === 0) writeAttributeLength(writer, CKA.LABEL, 9);
        else writer.uint32(4).byte(0);
      })
      .ulong(0x12)
      .finish();
    expect(hex(lengths)).toBe(
      '00000018000000036141750000000200000003010000000' + '9ffffffff' + '0000000400' + '0000000000000012',
    );
  });

  it('writes C_GetSlotInfo (ssuvv): blank-padded strings with their length', () => {
    const body = new RpcResponse(5)
      .spaceString('ab', 4)
      .spaceString('', 2)
      .ulong(1)
      .version(0, 24)
      .version(0, 0)
      .finish();
    expect(hex(body)).toBe(
      '00000005' +
        '000000057373757676' +
        '000000046162' +
        '2020' +
        '000000022020' +
        '0000000000000001' +
        '0018' +
        '0000',
    );
  });

  it('never cuts a UTF-8 character in a space-padded string', () => {
    const body = new RpcResponse(5)
      .spaceString('aé', 2)
      .spaceString('', 1)
      .ulong(0)
      .version(0, 0)
      .version(0, 0)
      .finish();
    expect(hex(body.subarray(13, 19))).toBe('00000002' + '6120');
  });

  it('refuses a request whose signature is not the call table one, or trailing bytes', () => {
    expect(() => new RpcRequest(fromHex('00000004 00000002 7966 00'))).toThrow(RpcProtocolError);
    const trailing = new RpcRequest(fromHex('00000004 00000003 796675 00 00000001 ff'));
    trailing.byte();
    trailing.ulongBuffer();
    expect(() => trailing.end()).toThrow(/trailing/);
    const misuse = new RpcRequest(GET_SLOT_LIST);
    expect(() => misuse.ulong()).toThrow(/expected u/);
  });

  it('checks the response side too: a part outside the signature is a programming error', () => {
    expect(() => new RpcResponse(rpcCall('C_Finalize').id).ulong(1)).toThrow();
    expect(() => new RpcResponse(rpcCall('C_OpenSession').id).finish()).toThrow(/missing u/);
    expect(hex(RpcResponse.error(0xa0))).toBe('00000000' + '0000000175' + '00000000000000a0');
  });

  it('has the call ids of p11-kit 0.24 (C_Login 18, C_Sign 43, C_DeriveKey 62, C_WaitForSlotEvent 65)', () => {
    expect([
      rpcCall('C_Login').id,
      rpcCall('C_Sign').id,
      rpcCall('C_DeriveKey').id,
      rpcCall('C_WaitForSlotEvent').id,
    ]).toEqual([18, 43, 62, 65]);
    expect(RPC_CALLS.every((call, index) => call.id === index)).toBe(true);
  });
});

describe('mechanisms on the wire (protocol version 0)', () => {
  const initBody = (mechanism: string) =>
    fromHex(`0000002a 00000003 754d75 0000000000000001 ${mechanism} 0000000000000002`);

  it('reads a parameterless mechanism (NULL byte array) and CK_RSA_PKCS_PSS_PARAMS (three uint64)', () => {
    const plain = new RpcRequest(initBody('00000001 ffffffff'));
    plain.ulong();
    expect(plain.mechanism()).toEqual({ type: CKM.RSA_PKCS, parameters: { kind: 'opaque', bytes: null } });
    plain.ulong();
    plain.end();
    const pss = new RpcRequest(initBody('0000000d 0000000000000250 0000000000000002 0000000000000020'));
    pss.ulong();
    expect(pss.mechanism()).toEqual({
      type: CKM.RSA_PKCS_PSS,
      parameters: { kind: 'pss', hashAlg: CKM.SHA256, mgf: 2, saltLength: 32 },
    });
  });

  it('reads CK_RSA_PKCS_OAEP_PARAMS and CK_ECDH1_DERIVE_PARAMS', () => {
    const oaep = new RpcRequest(initBody('00000009 0000000000000220 0000000000000001 0000000000000001 ffffffff'));
    oaep.ulong();
    expect(oaep.mechanism().parameters).toEqual({
      kind: 'oaep',
      hashAlg: CKM.SHA_1,
      mgf: 1,
      source: 1,
      sourceData: null,
    });
    const ecdh = new RpcRequest(initBody('00001050 0000000000000001 ffffffff 00000003 040102'));
    ecdh.ulong();
    expect(ecdh.mechanism().parameters).toEqual({
      kind: 'ecdh1',
      kdf: 1,
      sharedData: null,
      publicData: Uint8Array.of(4, 1, 2),
    });
  });

  it('reads the NULL mechanism (0xffffffff) that cancels an operation', () => {
    const cancel = new RpcRequest(initBody('ffffffff'));
    cancel.ulong();
    expect(cancel.mechanism().type).toBeNull();
  });
});

describe('attributes', () => {
  const attribute: fc.Arbitrary<Attribute> = fc.oneof(
    fc.record({
      type: fc.constantFrom(CKA.TOKEN, CKA.SIGN, CKA.PRIVATE),
      value: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
    }),
    fc.record({
      type: fc.constantFrom(CKA.CLASS, CKA.KEY_TYPE, CKA.MODULUS_BITS),
      value: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    }),
    fc.record({
      type: fc.constantFrom(CKA.ID, CKA.LABEL, CKA.VALUE, 0x8000_0001),
      value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
    }),
    fc.record({
      type: fc.constant(CKA.START_DATE),
      value: fc.constantFrom(new Uint8Array(0), new TextEncoder().encode('20260101')),
    }),
    fc.record({
      type: fc.constant(CKA.ALLOWED_MECHANISMS),
      value: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 5 }),
    }),
  );

  it('round-trip through the wire encoding, nested templates included (property)', () => {
    const template = fc.array(attribute, { maxLength: 6 });
    fc.assert(
      fc.property(template, template, (outer, inner) => {
        const attributes: Attribute[] = [...outer, { type: CKA.WRAP_TEMPLATE, value: inner }];
        const writer = new WireWriter();
        writeAttributes(writer, attributes);
        const reader = new WireReader(writer.finish());
        expect(readAttributes(reader)).toEqual(attributes);
        expect(reader.remaining).toBe(0);
      }),
    );
  });

  it('refuse lying counts, over-deep nesting and bad dates', () => {
    expect(() => readAttributes(new WireReader(fromHex('ffffffff 00')))).toThrow(/count/);
    let nested = fromHex('00000000');
    for (let depth = 0; depth < 9; depth++) {
      nested = Buffer.concat([fromHex(`00000001 40000211 01 00000018`), nested]);
    }
    expect(() => readAttributes(new WireReader(nested))).toThrow(/deep/);
    expect(() => readAttributes(new WireReader(fromHex('00000001 00000110 01 00000008 00000003 323032')))).toThrow(
      /date/,
    );
  });

  it('any request body is parsed or refused with RpcProtocolError, never another error (property)', () => {
    const calls = RPC_CALLS.filter((call) => call.id > 0);
    fc.assert(
      fc.property(fc.constantFrom(...calls), fc.uint8Array({ maxLength: 120 }), (call, tail) => {
        const writer = new WireWriter().uint32(call.id).byteArray(new TextEncoder().encode(call.request)).raw(tail);
        try {
          const request = new RpcRequest(writer.finish());
          for (let rest = call.request; rest.length > 0; ) {
            const code = rest.startsWith('a') || rest.startsWith('f') ? rest.slice(0, 2) : rest.slice(0, 1);
            rest = rest.slice(code.length);
            if (code === 'y') request.byte();
            else if (code === 'u') request.ulong();
            else if (code === 'ay') request.byteArray();
            else if (code === 'aA') request.attributeArray();
            else if (code === 'fA') request.attributeBuffer();
            else if (code === 'fy') request.byteBuffer();
            else if (code === 'fu') request.ulongBuffer();
            else if (code === 'M') request.mechanism();
            else if (code === 'z') request.zeroString();
            else if (code === 's') request.spaceString();
          }
          request.end();
        } catch (error) {
          expect(error).toBeInstanceOf(RpcProtocolError);
        }
      }),
    );
  });
});
