import { fromHex, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApduDispatcher, byInstruction, parseSimCommand, type SimCommand } from './apdu-dispatcher.js';
import { CardStatusError, failWith } from './status-error.js';

function echoCard() {
  const seen: SimCommand[] = [];
  const dispatcher = new ApduDispatcher(
    (command) => {
      seen.push({ ...command, data: new Uint8Array(command.data) });
      if (command.ins === 0x01) return { data: new Uint8Array(600).map((_, index) => index & 0xff) };
      if (command.ins === 0x02) failWith(0x6a82);
      return { data: command.data };
    },
    { maxChainLength: 1000 },
  );
  return { dispatcher, seen };
}

describe('parseSimCommand (ISO/IEC 7816-3 cases 1-4)', () => {
  it('parses short and extended cases', () => {
    expect(parseSimCommand(fromHex('00 a4 04 00'))).toMatchObject({ ins: 0xa4, ne: undefined, extended: false });
    expect(parseSimCommand(fromHex('00 ca 00 01 00'))).toMatchObject({ ne: 256 });
    expect(parseSimCommand(fromHex('00 20 00 80 02 31 32'))).toMatchObject({ data: fromHex('31 32'), ne: undefined });
    expect(parseSimCommand(fromHex('00 20 00 80 02 31 32 10'))).toMatchObject({ ne: 16 });
    expect(parseSimCommand(fromHex('00 ca 00 01 00 00 00'))).toMatchObject({ ne: 65536, extended: true });
    expect(parseSimCommand(fromHex('00 db 3f ff 00 00 02 aa bb 00 00'))).toMatchObject({
      data: fromHex('aa bb'),
      ne: 65536,
      extended: true,
    });
  });

  it('any bytes: a command or a 67 00 CardStatusError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const command = parseSimCommand(bytes);
          expect(command.data.length).toBeLessThanOrEqual(bytes.length);
        } catch (error) {
          expect(error).toBeInstanceOf(CardStatusError);
          expect((error as CardStatusError).statusWord).toBe(0x6700);
        }
      }),
    );
  });
});

describe('ApduDispatcher', () => {
  it('assembles command chains (CLA b5) and answers 90 00 to each non-final block', async () => {
    const { dispatcher, seen } = echoCard();
    expect(toHex(await dispatcher.process(fromHex('10 db 3f ff 02 aa bb')))).toBe('9000');
    expect(toHex(await dispatcher.process(fromHex('00 db 3f ff 01 cc')))).toBe('aabbcc9000');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.data).toEqual(fromHex('aa bb cc'));
  });

  it('a different command discards the chain; too long a chain is 67 00', async () => {
    const { dispatcher } = echoCard();
    await dispatcher.process(fromHex('10 db 3f ff 02 aa bb'));
    expect(toHex(await dispatcher.process(fromHex('00 dc 3f ff 01 cc')))).toBe('cc9000');
    const block = new Uint8Array(5 + 255);
    block.set([0x10, 0xdb, 0x3f, 0xff, 0xff]);
    for (let index = 0; index < 3; index++) expect(toHex(await dispatcher.process(block))).toBe('9000');
    expect(toHex(await dispatcher.process(block))).toBe('6700');
  });

  it('hands out long answers with 61xx and GET RESPONSE; other commands drop the rest', async () => {
    const { dispatcher } = echoCard();
    const first = await dispatcher.process(fromHex('00 01 00 00 00'));
    expect(first.length).toBe(258);
    expect(toHex(first.subarray(256))).toBe('6100');
    const second = await dispatcher.process(fromHex('00 c0 00 00 00'));
    expect(toHex(second.subarray(256))).toBe('6158');
    const third = await dispatcher.process(fromHex('00 c0 00 00 58'));
    expect(third.length).toBe(88 + 2);
    expect(toHex(third.subarray(88))).toBe('9000');
    expect(toHex(await dispatcher.process(fromHex('00 c0 00 00 00')))).toBe('6985');
    await dispatcher.process(fromHex('00 01 00 00 00'));
    await dispatcher.process(fromHex('00 03 00 00'));
    expect(toHex(await dispatcher.process(fromHex('00 c0 00 00 00')))).toBe('6985');
  });

  it("turns a handler's CardStatusError into its status word and rethrows anything else", async () => {
    const { dispatcher } = echoCard();
    expect(toHex(await dispatcher.process(fromHex('00 02 00 00')))).toBe('6a82');
    const broken = new ApduDispatcher(() => {
      throw new TypeError('bug');
    });
    await expect(broken.process(fromHex('00 02 00 00'))).rejects.toThrow('bug');
  });
});

describe('ApduDispatcher options', () => {
  const card = (handler: (command: SimCommand) => { data?: Uint8Array }) =>
    new ApduDispatcher(handler, {
      chainableInstructions: new Set([0xdb]),
      interindustryClassOnly: true,
      internalErrorStatus: 0x6f00,
      maxChainLength: 4,
    });

  it('answers synchronously with processSync, byte for byte as process', async () => {
    const sync = card((command) => ({ data: command.data }));
    const asynchronous = card((command) => ({ data: command.data }));
    for (const hex of ['10 db 3f ff 02 aa bb', '00 db 3f ff 01 cc', '00 ca 00 00 02 01 02 00', '00 c0 00 00 00']) {
      expect(toHex(sync.processSync(fromHex(hex)))).toBe(toHex(await asynchronous.process(fromHex(hex))));
    }
    expect(toHex(sync.processSync(fromHex('10 db 3f ff 02 aa bb')))).toBe('9000');
    expect(toHex(sync.processSync(fromHex('00 db 3f ff 01 cc')))).toBe('aabbcc9000');
    const promising = new ApduDispatcher(async () => ({}));
    expect(() => promising.processSync(fromHex('00 01 00 00'))).toThrow(TypeError);
  });

  it('refuses chains of other instructions (68 84) and too long chains (67 00)', () => {
    const dispatcher = card((command) => ({ data: command.data }));
    expect(toHex(dispatcher.processSync(fromHex('10 20 00 80 02 31 32')))).toBe('6884');
    expect(toHex(dispatcher.processSync(fromHex('10 db 3f ff 03 01 02 03')))).toBe('9000');
    expect(toHex(dispatcher.processSync(fromHex('10 db 3f ff 02 04 05')))).toBe('6700');
  });

  it('refuses secure messaging (68 82) and proprietary classes (6E 00); an internal fault is 6F 00', () => {
    const dispatcher = card(() => {
      throw new RangeError('bug');
    });
    expect(toHex(dispatcher.processSync(fromHex('0c a4 04 00')))).toBe('6882');
    expect(toHex(dispatcher.processSync(fromHex('80 a4 04 00')))).toBe('6e00');
    expect(toHex(dispatcher.processSync(fromHex('00 a4 04 00')))).toBe('6f00');
  });

  it('an unparsable command drops a pending answer', () => {
    const dispatcher = card(() => ({ data: new Uint8Array(300) }));
    expect(toHex(dispatcher.processSync(fromHex('00 01 00 00 00')).subarray(256))).toBe('612c');
    expect(toHex(dispatcher.processSync(fromHex('00 01 00')))).toBe('6700');
    expect(toHex(dispatcher.processSync(fromHex('00 c0 00 00 00')))).toBe('6985');
  });
});

describe('byInstruction', () => {
  it('sends each command to the handler of its INS; an unknown INS is 6D 00', () => {
    const dispatcher = new ApduDispatcher(
      byInstruction(
        new Map([
          [0xca, () => ({ data: fromHex('01 02') })],
          [0x20, () => failWith(0x63c2)],
        ]),
      ),
    );
    expect(toHex(dispatcher.processSync(fromHex('00 ca 00 00 00')))).toBe('01029000');
    expect(toHex(dispatcher.processSync(fromHex('00 20 00 80 00')))).toBe('63c2');
    expect(toHex(dispatcher.processSync(fromHex('00 b0 00 00 00')))).toBe('6d00');
  });
});
