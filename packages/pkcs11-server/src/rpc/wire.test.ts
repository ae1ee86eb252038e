import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RpcProtocolError, WireReader, WireWriter } from './wire.js';

describe('wire primitives', () => {
  it('writes big-endian uint32 / uint64 and length-prefixed arrays byte for byte', () => {
    const bytes = new WireWriter()
      .byte(0x7f)
      .uint32(0x01020304)
      .uint64(0x11)
      .uint64(-1)
      .byteArray(Uint8Array.of(0xaa, 0xbb))
      .byteArray(null)
      .finish();
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '7f' + '01020304' + '0000000000000011' + 'ffffffffffffffff' + '00000002aabb' + 'ffffffff',
    );
  });

  it('round-trips any sequence of primitives (property)', () => {
    const item = fc.oneof(
      fc.record({ kind: fc.constant('byte' as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('u32' as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({ kind: fc.constant('u64' as const), value: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }),
      fc.record({ kind: fc.constant('array' as const), value: fc.option(fc.uint8Array({ maxLength: 700 })) }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (items) => {
        const writer = new WireWriter();
        for (const { kind, value } of items) {
          if (kind === 'byte') writer.byte(value);
          else if (kind === 'u32') writer.uint32(value);
          else if (kind === 'u64') writer.uint64(value);
          else writer.byteArray(value);
        }
        const reader = new WireReader(writer.finish());
        for (const { kind, value } of items) {
          if (kind === 'byte') expect(reader.byte()).toBe(value);
          else if (kind === 'u32') expect(reader.uint32()).toBe(value);
          else if (kind === 'u64') expect(reader.uint64()).toBe(value);
          else expect(reader.byteArray()).toEqual(value);
        }
        expect(reader.remaining).toBe(0);
      }),
    );
  });

  it('never reads past the end: any truncation of any input throws RpcProtocolError (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.constantFrom('byte', 'u32', 'u64', 'array'), { maxLength: 10 }),
        (bytes, reads) => {
          const reader = new WireReader(bytes);
          try {
            for (const read of reads) {
              if (read === 'byte') reader.byte();
              else if (read === 'u32') reader.uint32();
              else if (read === 'u64') reader.uint64();
              else reader.byteArray();
            }
          } catch (error) {
            expect(error).toBeInstanceOf(RpcProtocolError);
          }
          expect(reader.remaining).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('refuses array lengths p11-kit refuses (>= 0x7fffffff) without allocating', () => {
    expect(() => new WireReader(Uint8Array.of(0x7f, 0xff, 0xff, 0xff)).byteArray()).toThrow(RpcProtocolError);
    expect(() => new WireReader(Uint8Array.of(0x00, 0x10, 0x00, 0x00, 1, 2)).byteArray()).toThrow(/truncated/);
  });
});
