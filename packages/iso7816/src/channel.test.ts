import {
  type CardProtocol,
  concatBytes,
  fromHex,
  redactCommand,
  ScardError,
  type Transport,
  toHex,
} from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CommandApdu, encodeResponseApdu, parseCommandApdu } from './apdu.js';
import {
  type ApduSender,
  createCardChannel,
  createChainingSender,
  createGetResponseSender,
  createWrongLengthSender,
} from './channel.js';

const hex = (bytes: Uint8Array) => toHex(bytes, ' ');

/** A fake card that expects exactly these command bytes, in order, and answers the recorded responses. */
function scriptedTransport(script: readonly [command: string, response: string][], protocol: CardProtocol = 'T1') {
  let step = 0;
  const transport: Transport & { readonly remaining: number } = {
    atr: fromHex('3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40'),
    protocol,
    readerName: 'scripted',
    async transmit(command) {
      const entry = script[step++];
      if (!entry) throw new Error(`unexpected command ${hex(command)}`);
      expect(hex(command)).toBe(hex(fromHex(entry[0])));
      return fromHex(entry[1]);
    },
    async beginTransaction() {},
    async endTransaction() {},
    async reconnect() {
      return this.atr;
    },
    async close() {},
    get remaining() {
      return script.length - step;
    },
  };
  return transport;
}

const bytesOf = (length: number, seed = 0) => new Uint8Array(length).map((_, index) => (index + seed) & 0xff);

async function expectScardRejection(promise: Promise<unknown>, code: string): Promise<ScardError> {
  try {
    await promise;
  } catch (error) {
    expect(ScardError.isInstance(error)).toBe(true);
    expect((error as ScardError).name).toBe(code);
    return error as ScardError;
  }
  throw new Error('expected a ScardError');
}

describe('createCardChannel', () => {
  it('sends a PIV GET DATA and returns the data on 9000 (docs/spec/piv.md §6.2 command)', async () => {
    const transport = scriptedTransport([['00 cb 3f ff 05 5c 03 5f c1 05 00', '53 02 01 02 90 00']]);
    const channel = createCardChannel(transport);
    const data = await channel.transmitOk({
      cla: 0,
      ins: 0xcb,
      p1: 0x3f,
      p2: 0xff,
      data: fromHex('5c035fc105'),
      le: 256,
    });
    expect(hex(data)).toBe('53 02 01 02');
    expect(transport.remaining).toBe(0);
  });

  it('follows 61 08 with GET RESPONSE 00 C0 00 00 08 and concatenates (SP 800-73 Part 2 RSA-2048 example, docs/spec/iso7816.md §2)', async () => {
    const whole = concatBytes(fromHex('7c 82 01 04 82 82 01 00'), bytesOf(256));
    const transport = scriptedTransport([
      [`00 87 07 9a 0a 7c 08 82 00 81 04 de ad be ef 00`, hex(concatBytes(whole.subarray(0, 256), fromHex('61 08')))],
      ['00 c0 00 00 08', hex(concatBytes(whole.subarray(256), fromHex('90 00')))],
    ]);
    const channel = createCardChannel(transport);
    const response = await channel.send({
      cla: 0,
      ins: 0x87,
      p1: 0x07,
      p2: 0x9a,
      data: fromHex('7c 08 82 00 81 04 de ad be ef'),
      le: 256,
    });
    expect(response.statusWord).toBe(0x9000);
    expect(response.data).toEqual(whole);
    expect(transport.remaining).toBe(0);
  });

  it('61 00 means 256 bytes: GET RESPONSE with Le 00, looping until 9000', async () => {
    const transport = scriptedTransport([
      ['00 ca 00 6e 00', `${hex(bytesOf(256, 1))} 61 00`],
      ['00 c0 00 00 00', `${hex(bytesOf(256, 2))} 61 03`],
      ['00 c0 00 00 03', '01 02 03 90 00'],
    ]);
    const data = await createCardChannel(transport).transmitOk({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 });
    expect(data).toEqual(concatBytes(bytesOf(256, 1), bytesOf(256, 2), fromHex('010203')));
  });

  it('GET RESPONSE keeps the logical channel of CLA, drops chaining/SM bits', async () => {
    const transport = scriptedTransport([
      ['0d ca 00 6e 00', '61 01'],
      ['01 c0 00 00 01', 'aa 90 00'],
    ]);
    const data = await createCardChannel(transport).transmitOk({ cla: 0x0d, ins: 0xca, p1: 0, p2: 0x6e, le: 256 });
    expect(hex(data)).toBe('aa');
  });

  it('re-issues the same command with Le = xx after 6C xx (docs/spec/iso7816.md §2 step 1)', async () => {
    const transport = scriptedTransport([
      ['00 b0 00 00 0a', '6c 05'],
      ['00 b0 00 00 05', '01 02 03 04 05 90 00'],
    ]);
    const data = await createCardChannel(transport).transmitOk({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 10 });
    expect(hex(data)).toBe('01 02 03 04 05');
  });

  it('6C 00 means Le 256; a 61xx after the re-issue is followed too', async () => {
    const transport = scriptedTransport([
      ['00 b0 00 00', '6c 00'],
      ['00 b0 00 00 00', '01 61 01'],
      ['00 c0 00 00 01', '02 90 00'],
    ]);
    const data = await createCardChannel(transport).transmitOk({ cla: 0, ins: 0xb0, p1: 0, p2: 0 });
    expect(hex(data)).toBe('01 02');
  });

  it('chains 600 bytes as 255 + 255 + 90 with CLA 10 on all but the last (docs/spec/iso7816.md §2 step 3-4)', async () => {
    const data = bytesOf(600);
    const transport = scriptedTransport([
      [`10 db 3f ff ff ${hex(data.subarray(0, 255))}`, '90 00'],
      [`10 db 3f ff ff ${hex(data.subarray(255, 510))}`, '90 00'],
      [`00 db 3f ff 5a ${hex(data.subarray(510))}`, '90 00'],
    ]);
    const result = await createCardChannel(transport).transmitOk({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data });
    expect(result.length).toBe(0);
    expect(transport.remaining).toBe(0);
  });

  it('the last block of a chain carries the Le; intermediate ones have none', async () => {
    const data = bytesOf(256);
    const transport = scriptedTransport([
      [`10 2a 9e 9a ff ${hex(data.subarray(0, 255))}`, '90 00'],
      [`00 2a 9e 9a 01 ${hex(data.subarray(255))} 00`, 'ab cd 90 00'],
    ]);
    const result = await createCardChannel(transport).transmitOk({
      cla: 0,
      ins: 0x2a,
      p1: 0x9e,
      p2: 0x9a,
      data,
      le: 256,
    });
    expect(hex(result)).toBe('ab cd');
  });

  it('a 61xx to an intermediate block fails the command instead of looking successful (issue #11 item 3)', async () => {
    // A hostile card answers 61 02 to the first block; GET RESPONSE would then end in 9000.
    const transport = scriptedTransport([
      [`10 db 3f ff ff ${hex(bytesOf(255))}`, '61 02'],
      ['00 c0 00 00 02', 'aa bb 90 00'],
    ]);
    const channel = createCardChannel(transport);
    await expectScardRejection(
      channel.transmitOk({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data: bytesOf(600) }),
      'SCARD_E_UNEXPECTED',
    );
    expect(transport.remaining).toBe(1);
    const wrongLength = scriptedTransport([[`10 db 3f ff ff ${hex(bytesOf(255))}`, '6c 10']]);
    await expectScardRejection(
      createCardChannel(wrongLength).send({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data: bytesOf(600) }),
      'SCARD_E_UNEXPECTED',
    );
    expect(wrongLength.remaining).toBe(0);
  });

  it('stops a chain at an intermediate status word other than 9000 and returns it', async () => {
    const transport = scriptedTransport([[`10 db 3f ff ff ${hex(bytesOf(255))}`, '68 84']]);
    const channel = createCardChannel(transport);
    const response = await channel.send({ cla: 0, ins: 0xdb, p1: 0x3f, p2: 0xff, data: bytesOf(600) });
    expect(response.statusWord).toBe(0x6884);
    expect(transport.remaining).toBe(0);
  });

  it('maxShortData sets the chaining block size', async () => {
    const transport = scriptedTransport([
      ['10 db 3f ff 02 00 01', '90 00'],
      ['00 db 3f ff 01 02', '90 00'],
    ]);
    await createCardChannel(transport, { maxShortData: 2 }).transmitOk({
      cla: 0,
      ins: 0xdb,
      p1: 0x3f,
      p2: 0xff,
      data: bytesOf(3),
    });
    expect(transport.remaining).toBe(0);
  });

  it('with extendedLength sends one extended APDU instead of chaining', async () => {
    const data = bytesOf(600);
    const transport = scriptedTransport([[`00 db 3f ff 00 02 58 ${hex(data)}`, '90 00']]);
    await createCardChannel(transport, { extendedLength: true }).transmitOk({
      cla: 0,
      ins: 0xdb,
      p1: 0x3f,
      p2: 0xff,
      data,
    });
    expect(transport.remaining).toBe(0);
  });

  it('with extendedLength asks for Le > 256 in extended form', async () => {
    const transport = scriptedTransport([['00 b0 00 00 00 04 00', `${hex(bytesOf(1024))} 90 00`]]);
    const data = await createCardChannel(transport, { extendedLength: true }).transmitOk({
      cla: 0,
      ins: 0xb0,
      p1: 0,
      p2: 0,
      le: 1024,
    });
    expect(data.length).toBe(1024);
  });

  it('without extendedLength an Le above 256 goes out as 00 and the rest comes by GET RESPONSE', async () => {
    const transport = scriptedTransport([
      ['00 b0 00 00 00', `${hex(bytesOf(256))} 61 00`],
      ['00 c0 00 00 00', `${hex(bytesOf(256, 256))} 90 00`],
    ]);
    const data = await createCardChannel(transport).transmitOk({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 512 });
    expect(data).toEqual(bytesOf(512));
  });

  it('never uses extended length over T=0 (docs/spec/iso7816.md §1.2)', async () => {
    const data = bytesOf(300);
    const transport = scriptedTransport(
      [
        [`10 db 3f ff ff ${hex(data.subarray(0, 255))}`, '90 00'],
        [`00 db 3f ff 2d ${hex(data.subarray(255))}`, '90 00'],
      ],
      'T0',
    );
    await createCardChannel(transport, { extendedLength: true }).transmitOk({
      cla: 0,
      ins: 0xdb,
      p1: 0x3f,
      p2: 0xff,
      data,
    });
    expect(transport.remaining).toBe(0);
  });

  it('transmitOk maps the final status word (docs/spec/iso7816.md §4.3)', async () => {
    const channel = createCardChannel(
      scriptedTransport([
        ['00 cb 3f ff 05 5c 03 5f c1 05 00', '6a 82'],
        ['00 20 00 80', '63 c2'],
        ['00 20 00 80', '63 02'],
        ['00 20 00 80', '69 83'],
      ]),
    );
    const notFound = await expectScardRejection(
      channel.transmitOk(
        { cla: 0, ins: 0xcb, p1: 0x3f, p2: 0xff, data: fromHex('5c035fc105'), le: 256 },
        'read 5FC105',
      ),
      'SCARD_E_FILE_NOT_FOUND',
    );
    expect(notFound.statusWord).toBe(0x6a82);
    expect(notFound.message).toContain('read 5FC105');
    const verify = { cla: 0, ins: 0x20, p1: 0, p2: 0x80 };
    expect((await expectScardRejection(channel.transmitOk(verify), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(2);
    // 630x is a counter for PIN commands (YubiKey NEO quirk).
    expect((await expectScardRejection(channel.transmitOk(verify), 'SCARD_W_WRONG_CHV')).retriesLeft).toBe(2);
    expect((await expectScardRejection(channel.transmitOk(verify), 'SCARD_W_CHV_BLOCKED')).retriesLeft).toBe(0);
  });

  it('trace sees every exchange, with VERIFY PIN bytes zeroed', async () => {
    const seen: string[] = [];
    const transport = scriptedTransport([
      ['00 20 00 80 08 31 32 33 34 35 36 ff ff', '90 00'],
      ['00 ca 00 6e 00', '61 01'],
      ['00 c0 00 00 01', '01 90 00'],
    ]);
    const channel = createCardChannel(transport, {
      trace: (command, response) => seen.push(`${hex(command)} -> ${hex(response)}`),
    });
    const pin = fromHex('31 32 33 34 35 36 ff ff');
    await channel.transmitOk({ cla: 0, ins: 0x20, p1: 0, p2: 0x80, data: pin });
    await channel.transmitOk({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 });
    expect(seen).toEqual([
      '00 20 00 80 08 00 00 00 00 00 00 00 00 -> 90 00',
      '00 ca 00 6e 00 -> 61 01',
      '00 c0 00 00 01 -> 01 90 00',
    ]);
    // The caller's PIN buffer is the caller's to wipe; the channel did not alter it.
    expect(hex(pin)).toBe('31 32 33 34 35 36 ff ff');
  });

  it("uses core's redactCommand, which finds the data of an extended VERIFY", () => {
    const { command, redacted } = redactCommand(fromHex('00 24 00 81 00 00 02 31 32'));
    expect(redacted).toBe(true);
    expect(hex(command)).toBe('00 24 00 81 00 00 02 00 00');
  });

  it('turns transport failures into ScardError, passing ScardError through', async () => {
    const failing = (error: unknown): Transport => ({
      ...scriptedTransport([]),
      transmit: async () => {
        throw error;
      },
    });
    const apdu = { cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 };
    await expectScardRejection(createCardChannel(failing(new Error('socket closed'))).send(apdu), 'SCARD_E_UNEXPECTED');
    await expectScardRejection(
      createCardChannel(failing(new ScardError('SCARD_W_REMOVED_CARD'))).send(apdu),
      'SCARD_W_REMOVED_CARD',
    );
  });

  it('a response shorter than 2 bytes is SCARD_F_COMM_ERROR', async () => {
    await expectScardRejection(
      createCardChannel(scriptedTransport([['00 ca 00 6e 00', '90']])).send({
        cla: 0,
        ins: 0xca,
        p1: 0,
        p2: 0x6e,
        le: 256,
      }),
      'SCARD_F_COMM_ERROR',
    );
  });

  it('gives up on a card that answers 61xx forever with SCARD_E_COMM_DATA_LOST', async () => {
    let count = 0;
    const endless: Transport = {
      ...scriptedTransport([]),
      transmit: async () => {
        count++;
        return fromHex('00 61 01');
      },
    };
    await expectScardRejection(
      createCardChannel(endless).send({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 }),
      'SCARD_E_COMM_DATA_LOST',
    );
    expect(count).toBe(513);
  });

  it('bounds GET RESPONSE by total bytes: 64 KB answers followed by 61 00 stop at 65,536 bytes (issue #11 item 9)', async () => {
    let count = 0;
    const big = concatBytes(new Uint8Array(65_536), fromHex('61 00'));
    const flood: Transport = {
      ...scriptedTransport([]),
      transmit: async () => {
        count++;
        return big;
      },
    };
    await expectScardRejection(
      createCardChannel(flood).send({ cla: 0, ins: 0xca, p1: 0, p2: 0x6e, le: 256 }),
      'SCARD_E_COMM_DATA_LOST',
    );
    expect(count).toBe(1);
  });

  it('bounds GET RESPONSE by the Le the caller asked for (issue #11 item 9)', async () => {
    const transport = scriptedTransport([
      ['00 84 00 00 08', `${hex(bytesOf(8))} 61 08`],
      ['00 c0 00 00 08', `${hex(bytesOf(8))} 90 00`],
    ]);
    await expectScardRejection(
      createCardChannel(transport).send({ cla: 0, ins: 0x84, p1: 0, p2: 0, le: 8 }),
      'SCARD_E_COMM_DATA_LOST',
    );
    const exact = scriptedTransport([
      ['00 84 00 00 08', `${hex(bytesOf(4))} 61 04`],
      ['00 c0 00 00 04', `${hex(bytesOf(4, 4))} 90 00`],
    ]);
    expect(hex((await createCardChannel(exact).send({ cla: 0, ins: 0x84, p1: 0, p2: 0, le: 8 })).data)).toBe(
      hex(bytesOf(8)),
    );
  });

  it('rejects bad options with SCARD_E_INVALID_PARAMETER', () => {
    expect(() => createCardChannel(scriptedTransport([]), { maxShortData: 0 })).toThrow(/SCARD_E_INVALID_PARAMETER/);
    expect(() => createCardChannel(scriptedTransport([]), { maxShortData: 256 })).toThrow(/SCARD_E_INVALID_PARAMETER/);
    expect(() => createCardChannel(scriptedTransport([]), { getResponseIns: 0x100 })).toThrow(
      /SCARD_E_INVALID_PARAMETER/,
    );
  });
});

/** A recording ApduSender answering from a list, for testing one processor alone. */
function recordingSender(responses: readonly [data: string, statusWord: number][]) {
  const sent: CommandApdu[] = [];
  let step = 0;
  const sender: ApduSender = {
    async send(apdu) {
      sent.push({ ...apdu, ...(apdu.data ? { data: apdu.data.slice() } : {}) });
      const entry = responses[step++];
      if (!entry) throw new Error('no more responses');
      return { data: fromHex(entry[0]), statusWord: entry[1] };
    },
  };
  return { sender, sent };
}

describe('processors alone', () => {
  it('chaining passes short data through unchanged', async () => {
    const { sender, sent } = recordingSender([['', 0x9000]]);
    await createChainingSender(sender, 255).send({ cla: 0x0c, ins: 0xdb, p1: 0, p2: 0, data: bytesOf(255), le: 10 });
    expect(sent).toEqual([{ cla: 0x0c, ins: 0xdb, p1: 0, p2: 0, data: bytesOf(255), le: 10 }]);
  });

  it('chaining keeps SM bits and sets 0x10 on intermediate blocks', async () => {
    const { sender, sent } = recordingSender([
      ['', 0x9000],
      ['', 0x9000],
    ]);
    await createChainingSender(sender, 4).send({ cla: 0x0c, ins: 0xdb, p1: 0, p2: 0, data: bytesOf(8) });
    expect(sent.map((apdu) => [apdu.cla, apdu.data?.length, apdu.le])).toEqual([
      [0x1c, 4, undefined],
      [0x0c, 4, undefined],
    ]);
  });

  it('wrong-length re-issues once only', async () => {
    const { sender, sent } = recordingSender([
      ['', 0x6c10],
      ['', 0x6c08],
    ]);
    const response = await createWrongLengthSender(sender).send({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 1 });
    expect(response.statusWord).toBe(0x6c08);
    expect(sent.map((apdu) => apdu.le)).toEqual([1, 16]);
  });

  it('GET RESPONSE uses the configured INS and returns the last status word', async () => {
    const { sender, sent } = recordingSender([
      ['01', 0x6102],
      ['02 03', 0x6282],
    ]);
    const response = await createGetResponseSender(sender, 0xc1).send({ cla: 0, ins: 0xca, p1: 0, p2: 0, le: 256 });
    expect(response).toEqual({ data: fromHex('010203'), statusWord: 0x6282 });
    expect(sent[1]).toEqual({ cla: 0, ins: 0xc1, p1: 0, p2: 0, le: 2 });
  });
});

describe('property tests', () => {
  it('any data length reaches a chaining card intact, any response length comes back intact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 1200 }),
        fc.uint8Array({ maxLength: 1200 }),
        fc.integer({ min: 1, max: 255 }),
        async (commandData, responseData, blockSize) => {
          // A card that gathers chained blocks, then returns responseData in pieces of at most 256 bytes.
          let gathered: Uint8Array = new Uint8Array(0);
          let pending: Uint8Array = new Uint8Array(0);
          const answer = (): Uint8Array => {
            const piece = pending.subarray(0, 256);
            pending = pending.subarray(piece.length);
            return encodeResponseApdu(
              piece,
              pending.length === 0 ? 0x9000 : 0x6100 | (Math.min(pending.length, 256) % 256),
            );
          };
          const card: Transport = {
            ...scriptedTransport([]),
            transmit: async (bytes) => {
              const command = parseCommandApdu(bytes);
              expect(command.extended).toBe(false);
              if (command.ins === 0xc0) return answer();
              expect(command.data?.length ?? 0).toBeLessThanOrEqual(blockSize);
              gathered = concatBytes(gathered, command.data ?? new Uint8Array(0));
              if ((command.cla & 0x10) !== 0) return fromHex('9000');
              pending = responseData;
              return answer();
            },
          };
          const channel = createCardChannel(card, { maxShortData: blockSize });
          const result = await channel.transmitOk({ cla: 0, ins: 0xda, p1: 1, p2: 2, data: commandData, le: 256 });
          expect(gathered).toEqual(commandData);
          expect(result).toEqual(responseData);
        },
      ),
      { numRuns: 200 },
    );
  });
});
