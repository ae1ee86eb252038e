import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, RpcFrameReader } from './framing.js';
import { RpcProtocolError } from './wire.js';

/** A request frame as p11-kit-client.so writes it: header, options (the module name), body. */
function clientFrame(code: number, options: Uint8Array, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(12 + options.length + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, code);
  view.setUint32(4, options.length);
  view.setUint32(8, body.length);
  frame.set(options, 12);
  frame.set(body, 12 + options.length);
  return frame;
}

/** Splits bytes at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('RPC framing', () => {
  it('reads the version byte, then the frame of a real p11-kit-client C_Finalize request', () => {
    const reader = new RpcFrameReader();
    // Captured from p11-kit-client.so 0.24.1: version 0, then message 0x15, options "client", body C_Finalize.
    reader.push(Buffer.from('00000000150000000600000008636c69656e740000000200000000', 'hex'));
    expect(reader.version()).toBe(0);
    const frame = reader.next();
    expect(frame?.code).toBe(0x15);
    expect(Buffer.from(frame?.body ?? []).toString('hex')).toBe('0000000200000000');
    expect(reader.next()).toBeUndefined();
  });

  it('writes a reply frame with no options, byte for byte as p11-kit servers do', () => {
    expect(Buffer.from(encodeFrame(0x10, Buffer.from('0000000100000000', 'hex'))).toString('hex')).toBe(
      '0000001000000000000000080000000100000000',
    );
  });

  it('reassembles any frames from any chunking (property)', () => {
    const frameArb = fc.record({
      code: fc.integer({ min: 1, max: 0xffffffff }),
      options: fc.uint8Array({ maxLength: 16 }),
      body: fc.uint8Array({ maxLength: 200 }),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, cuts) => {
          const stream = Buffer.concat([
            Uint8Array.of(0),
            ...frames.map((f) => clientFrame(f.code, f.options, f.body)),
          ]);
          const reader = new RpcFrameReader();
          const got: { code: number; body: Uint8Array }[] = [];
          let versionSeen = false;
          for (const chunk of split(new Uint8Array(stream), cuts)) {
            reader.push(chunk);
            if (!versionSeen && reader.version() !== undefined) versionSeen = true;
            if (!versionSeen) continue;
            for (let frame = reader.next(); frame !== undefined; frame = reader.next()) got.push(frame);
          }
          expect(got.map((f) => f.code)).toEqual(frames.map((f) => f.code));
          expect(got.map((f) => Buffer.from(f.body).toString('hex'))).toEqual(
            frames.map((f) => Buffer.from(f.body).toString('hex')),
          );
          expect(reader.pending).toBe(0);
        },
      ),
    );
  });

  it('refuses a header announcing more than the limits before buffering its body', () => {
    const reader = new RpcFrameReader({ maxBody: 1024, maxOptions: 16 });
    reader.push(Uint8Array.of(0));
    reader.version();
    reader.push(Buffer.from('00000001' + '00000000' + 'ffffffff', 'hex'));
    expect(() => reader.next()).toThrow(RpcProtocolError);
    const options = new RpcFrameReader({ maxBody: 1024, maxOptions: 16 });
    options.push(Buffer.from('00' + '00000001' + '00001000' + '00000000', 'hex'));
    options.version();
    expect(() => options.next()).toThrow(/options/);
  });

  it('refuses message code 0 (p11-kit: "invalid rpc header")', () => {
    const reader = new RpcFrameReader();
    reader.push(Buffer.from('00' + '00000000' + '00000000' + '00000000', 'hex'));
    reader.version();
    expect(() => reader.next()).toThrow(/code 0/);
  });

  it('any byte stream yields frames or RpcProtocolError, never more buffered than it was given (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const reader = new RpcFrameReader({ maxBody: 64, maxOptions: 8 });
        reader.push(bytes);
        reader.version();
        try {
          while (reader.next() !== undefined);
        } catch (error) {
          expect(error).toBeInstanceOf(RpcProtocolError);
        }
        expect(reader.pending).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });
});
