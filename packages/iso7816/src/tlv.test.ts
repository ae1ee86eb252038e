import { concatBytes, fromHex, ScardError } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectScardError, hex } from './test-support.js';
import {
  decodeLength,
  decodeTlv,
  decodeTlvOne,
  encodeLength,
  encodeTlv,
  encodeTlvNode,
  encodeTlvNodes,
  findTlv,
  findTlvValue,
  type TlvNode,
  tagBytes,
} from './tlv.js';

describe('lengths (docs/spec/iso7816.md §5.2)', () => {
  it.each([
    [0, '00'],
    [0x7f, '7f'],
    [0x80, '81 80'],
    [0xff, '81 ff'],
    [0x100, '82 01 00'],
    [0xffff, '82 ff ff'],
    [0x10000, '83 01 00 00'],
    [0x1000000, '84 01 00 00 00'],
  ])('encodeLength(%s) = %s and decodes back', (length, text) => {
    expect(hex(encodeLength(length))).toBe(text);
    expect(decodeLength(fromHex(text), 0)).toEqual({ length, headerLength: fromHex(text).length });
  });

  it('accepts non-minimal 81 05 (seen on real cards), rejects 80 and 85', () => {
    expect(decodeLength(fromHex('8105'), 0)).toEqual({ length: 5, headerLength: 2 });
    expectScardError(() => decodeLength(fromHex('80'), 0), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => decodeLength(fromHex('850000000001'), 0), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => decodeLength(fromHex('8201'), 0), 'SCARD_E_INVALID_PARAMETER');
  });
});

describe('tags (docs/spec/iso7816.md §5.1)', () => {
  it('encodes one-, two- and three-byte tags', () => {
    expect(hex(tagBytes(0x5c))).toBe('5c');
    expect(hex(tagBytes(0x7f49))).toBe('7f 49');
    expect(hex(tagBytes(0xbf21))).toBe('bf 21');
    expect(hex(tagBytes(0x5fc102))).toBe('5f c1 02');
    expect(hex(tagBytes(0))).toBe('00');
  });

  it('rejects numbers that are not BER tags', () => {
    expectScardError(() => tagBytes(0x1f), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => tagBytes(0x5c01), 'SCARD_E_INVALID_PARAMETER'); // 5C does not announce a second byte
    expectScardError(() => tagBytes(0x5f81), 'SCARD_E_INVALID_PARAMETER'); // 81 says another byte follows
    expect(hex(tagBytes(0x5f8101))).toBe('5f 81 01');
  });
});

describe('decodeTlv with real card data', () => {
  it('YubiKey PIV SELECT response 61 11 … (docs/spec/piv.md §2): constructed 61 and 79 nest', () => {
    const nodes = decodeTlv(fromHex('61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08'));
    expect(nodes).toHaveLength(1);
    const template = nodes[0] as TlvNode;
    expect(template.tag).toBe(0x61);
    expect(template.constructed).toBe(true);
    expect(template.children?.map((child) => child.tag)).toEqual([0x4f, 0x79]);
    expect(hex(findTlvValue(nodes, 0x61, 0x4f) as Uint8Array)).toBe('00 00 10 00 01 00');
    expect(hex(findTlvValue(nodes, 0x61, 0x79, 0x4f) as Uint8Array)).toBe('a0 00 00 03 08');
    expect(findTlv(nodes, 0x61, 0x50)).toBeUndefined();
  });

  it('PIV certificate object: 53 82 01 09 { 70 82 01 00 <DER> 71 01 00 FE 00 } (layout from docs/spec/piv.md §4.1)', () => {
    const der = new Uint8Array(256).map((_, index) => index);
    const bytes = concatBytes(fromHex('53 82 01 09 70 82 01 00'), der, fromHex('71 01 00 FE 00'));
    const object = decodeTlvOne(bytes);
    expect(object.tag).toBe(0x53);
    expect(object.constructed).toBe(false); // 53 is primitive: callers decode the value themselves
    expect(object.children).toBeUndefined();
    expect(object.value.length).toBe(0x109);
    const inner = decodeTlv(object.value);
    expect(inner.map((node) => node.tag)).toEqual([0x70, 0x71, 0xfe]);
    expect(findTlvValue(inner, 0x70)).toEqual(der);
    // findTlv decodes primitive wrappers on the path.
    expect(findTlvValue([object], 0x53, 0x71)).toEqual(fromHex('00'));
    expect(findTlvValue([object], 0x53, 0xfe)).toEqual(new Uint8Array(0));
    expect(encodeTlv(0x53, inner)).toEqual(bytes);
  });

  it('PIV GENERATE response 7F49 { 86 41 04‖X‖Y } (docs/spec/piv.md §6.7): two-byte constructed tag', () => {
    const point = concatBytes(fromHex('04'), new Uint8Array(64).fill(0xab));
    const bytes = concatBytes(fromHex('7F 49 43 86 41'), point);
    const nodes = decodeTlv(bytes);
    expect(nodes[0]?.tag).toBe(0x7f49);
    expect(findTlvValue(nodes, 0x7f49, 0x86)).toEqual(point);
  });

  it('PIV GET DATA request data 5C 03 5F C1 05 (docs/spec/piv.md §6.2): three-byte tag as value', () => {
    expect(decodeTlvOne(fromHex('5c035fc105'))).toEqual({ tag: 0x5c, constructed: false, value: fromHex('5fc105') });
    const nodes = decodeTlv(fromHex('5f c1 05 00'));
    expect(nodes[0]).toEqual({ tag: 0x5fc105, constructed: false, value: new Uint8Array(0) });
  });

  it('constructed object whose value is not TLV keeps value, no children', () => {
    const [node] = decodeTlv(fromHex('70 03 30 05 01'));
    expect(node?.constructed).toBe(true);
    expect(node?.children).toBeUndefined();
    expect(node?.value).toEqual(fromHex('300501'));
  });

  it('parseConstructed false leaves children out; findTlv still descends', () => {
    const nodes = decodeTlv(fromHex('61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08'), {
      parseConstructed: false,
    });
    expect(nodes[0]?.children).toBeUndefined();
    expect(findTlvValue(nodes, 0x61, 0x79, 0x4f)).toEqual(fromHex('a000000308'));
  });

  it('skipPadding skips 00/FF between objects; strict mode reads 00 as a tag', () => {
    expect(decodeTlv(fromHex('00 00 5c 01 7e ff'), { skipPadding: true })).toEqual([
      { tag: 0x5c, constructed: false, value: fromHex('7e') },
    ]);
    expect(decodeTlv(fromHex('00 00')).map((node) => node.tag)).toEqual([0]);
  });

  it.each([
    ['truncated value', '5c 03 5f c1'],
    ['missing length', '5c'],
    ['truncated multi-byte tag', '5f c1'],
    ['indefinite length', '30 80 00 00'],
    ['tag of 5 bytes', '5f 81 81 81 01 00'],
  ])('rejects %s with SCARD_E_INVALID_PARAMETER', (_label, text) => {
    expectScardError(() => decodeTlv(fromHex(text)), 'SCARD_E_INVALID_PARAMETER');
  });

  it('decodeTlvOne rejects trailing data; malformedError picks the code', () => {
    expectScardError(() => decodeTlvOne(fromHex('5c 01 7e 00')), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(() => decodeTlvOne(new Uint8Array(0)), 'SCARD_E_INVALID_PARAMETER');
    expectScardError(
      () => decodeTlv(fromHex('53 05 00'), { malformedError: 'SCARD_E_COMM_DATA_LOST' }),
      'SCARD_E_COMM_DATA_LOST',
    );
  });

  it('returns copies of values', () => {
    const bytes = fromHex('5c 01 7e');
    const [node] = decodeTlv(bytes);
    bytes[2] = 0;
    expect(node?.value).toEqual(fromHex('7e'));
  });
});

describe('encodeTlv', () => {
  it('uses minimal lengths: 53 00 (PIV delete, docs/spec/piv.md §4.1), 81 80, 82 01 00', () => {
    expect(hex(encodeTlv(0x53, new Uint8Array(0)))).toBe('53 00');
    expect(hex(encodeTlv(0x70, new Uint8Array(0x80)).subarray(0, 3))).toBe('70 81 80');
    expect(hex(encodeTlv(0x7f49, new Uint8Array(0x100)).subarray(0, 5))).toBe('7f 49 82 01 00');
  });

  it('encodes nested nodes: the YubiKey SELECT template byte for byte', () => {
    const bytes = encodeTlv(0x61, [
      { tag: 0x4f, constructed: false, value: fromHex('00 00 10 00 01 00') },
      {
        tag: 0x79,
        constructed: true,
        value: new Uint8Array(0),
        children: [{ tag: 0x4f, constructed: false, value: fromHex('a0 00 00 03 08') }],
      },
    ]);
    expect(hex(bytes)).toBe('61 11 4f 06 00 00 10 00 01 00 79 07 4f 05 a0 00 00 03 08');
  });
});

// A random TLV tree whose tags are valid and whose constructed bit matches children.
const primitiveTag = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).filter((tag) => (tag & 0x20) === 0 && (tag & 0x1f) !== 0x1f),
  fc.constantFrom(0x5fc105, 0x5f50, 0xdf1f, 0x9f7f, 0x5f8101),
);
const constructedTag = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).filter((tag) => (tag & 0x20) !== 0 && (tag & 0x1f) !== 0x1f),
  fc.constantFrom(0x7f49, 0xbf21, 0x7f21, 0x3f8101),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('node')) as fc.Arbitrary<TlvNode>,
  leaf: fc
    .record({ tag: primitiveTag, value: fc.uint8Array({ maxLength: 300 }) })
    .map(({ tag, value }): TlvNode => ({ tag, constructed: false, value })),
  node: fc
    .record({ tag: constructedTag, children: fc.array(tie('tree') as fc.Arbitrary<TlvNode>, { maxLength: 4 }) })
    .map(({ tag, children }): TlvNode => ({ tag, constructed: true, value: encodeTlvNodes(children), children })),
}));

describe('property tests', () => {
  it('decodeTlv(encode(x)) == x', () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 4 }), (nodes) => {
        expect(decodeTlv(encodeTlvNodes(nodes))).toEqual(nodes);
      }),
    );
  });

  it('random bytes: decodeTlv returns or throws ScardError only, and what it returns re-encodes exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const nodes = decodeTlv(bytes);
          // Only minimal lengths round-trip byte for byte; non-minimal ones re-encode shorter.
          expect(encodeTlvNodes(nodes).length).toBeLessThanOrEqual(bytes.length);
        } catch (error) {
          expect(ScardError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('deep nesting does not overflow the stack', () => {
    let bytes: Uint8Array = new Uint8Array(0);
    for (let level = 0; level < 5000; level++) bytes = encodeTlv(0x30, bytes);
    const [outer] = decodeTlv(bytes);
    expect(outer?.tag).toBe(0x30);
    expect(encodeTlvNode(outer as TlvNode)).toEqual(bytes);
  });
});
