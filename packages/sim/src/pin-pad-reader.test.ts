/**
 * The simulated PIN-pad reader. Structure vectors are worked by hand from the PC/SC part 10 v2.02.09
 * layouts (docs/spec/minidriver.md §2.5.2 PIN_VERIFY_STRUCTURE, docs/spec/minidriver.md §2.5.3 PIN_MODIFY_STRUCTURE; USHORT/ULONG little-endian), for the
 * PIV VERIFY 00 20 00 80 / CHANGE REFERENCE DATA 00 24 00 80 templates (8-byte ASCII blocks padded FF).
 */

import { insertPin, parsePinModifyStructure, parsePinVerifyStructure } from '@minidriver/card-kit';
import { fromHex, interceptTransmit, ScardError, toHex } from '@minidriver/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModifyApdu, buildVerifyApdu, type PinPad, type PinPadPrompt } from './pin-pad-reader.js';
import { SimTransport } from './sim-transport.js';
import type { SimulatedCard } from './simulated-card.js';

const hex = (bytes: Uint8Array): string => toHex(bytes).toUpperCase();

// bTimerOut 00, bTimerOut2 00, bmFormatString 82 (bytes, position 0, left, ASCII), bmPINBlockString 08,
// bmPINLengthFormat 00, wPINMaxExtraDigit 0x0608 (min 6, max 8) → 08 06, bEntryValidationCondition 02,
// bNumberMessage 01, wLangId 0x0409 → 09 04, bMsgIndex 00, bTeoPrologue 00 00 00, ulDataLength 13 →
// 0D 00 00 00, abData 00 20 00 80 08 FF*8.
const PIV_VERIFY_STRUCTURE = fromHex(
  '00 00 82 08 00 08 06 02 01 09 04 00 00 00 00 0D 00 00 00 00 20 00 80 08 FF FF FF FF FF FF FF FF',
);
// bmFormatString 82, bmPINBlockString 08, bmPINLengthFormat 00, bInsertionOffsetOld 00,
// bInsertionOffsetNew 08, wPINMaxExtraDigit 08 06, bConfirmPIN 03 (current PIN + confirmation),
// bEntryValidationCondition 02, bNumberMessage 03, wLangId 09 04, bMsgIndex1..3 00 01 02, bTeoPrologue
// 00 00 00, ulDataLength 21 → 15 00 00 00, abData 00 24 00 80 10 FF*16.
const PIV_MODIFY_STRUCTURE = fromHex(
  `00 00 82 08 00 00 08 08 06 03 02 03 09 04 00 01 02 00 00 00 15 00 00 00 00 24 00 80 10 ${'FF '.repeat(16)}`,
);

function scriptedPad(...answers: (string | undefined)[]): PinPad & { prompts: PinPadPrompt[] } {
  const prompts: PinPadPrompt[] = [];
  return {
    prompts,
    enterPin: async (prompt) => {
      prompts.push(prompt);
      return answers.shift();
    },
  };
}

/** A card that keeps the last command and answers VERIFY 9000 for PIN "123456", else 63C2. */
class PinCard implements SimulatedCard {
  readonly name = 'PinCard';
  readonly atr = fromHex('3B 80 80 01 01');
  commands: string[] = [];
  powerOn(): void {}
  powerOff(): void {}
  reset(): void {}
  process(command: Uint8Array): Uint8Array {
    this.commands.push(hex(command));
    const pinField = hex(command.subarray(5, 13));
    return pinField === '313233343536FFFF' ? fromHex('90 00') : fromHex('63 C2');
  }
}

describe('parsePinVerifyStructure', () => {
  it('decodes every field of the PIV structure', () => {
    const parsed = parsePinVerifyStructure(PIV_VERIFY_STRUCTURE);
    expect(parsed.format).toEqual({
      unitsBytes: true,
      pinPosition: 0,
      rightJustify: false,
      encoding: 'ascii',
      lengthFieldBits: 0,
      blockSize: 8,
      lengthUnitsBytes: false,
      lengthPosition: 0,
      minLength: 6,
      maxLength: 8,
    });
    expect(parsed.entryValidationCondition).toBe(2);
    expect(parsed.numberMessage).toBe(1);
    expect(parsed.languageId).toBe(0x0409);
    expect(parsed.messageIndex).toBe(0);
    expect(hex(parsed.apdu)).toBe('0020008008FFFFFFFFFFFFFFFF');
  });

  it('rejects a wrong ulDataLength and short structures with SCARD_E_INVALID_PARAMETER', () => {
    const wrongLength = PIV_VERIFY_STRUCTURE.slice();
    wrongLength[15] = 0x0c;
    expect(() => parsePinVerifyStructure(wrongLength)).toThrow(ScardError);
    expect(() => parsePinVerifyStructure(PIV_VERIFY_STRUCTURE.subarray(0, 18))).toThrow(ScardError);
  });

  it('throws nothing but ScardError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const parse of [parsePinVerifyStructure, parsePinModifyStructure]) {
          try {
            parse(bytes);
          } catch (error) {
            expect(ScardError.isInstance(error)).toBe(true);
          }
        }
      }),
    );
  });
});

describe('parsePinModifyStructure', () => {
  it('decodes the PIV CHANGE REFERENCE DATA structure', () => {
    const parsed = parsePinModifyStructure(PIV_MODIFY_STRUCTURE);
    expect(parsed.insertionOffsetOld).toBe(0);
    expect(parsed.insertionOffsetNew).toBe(8);
    expect(parsed.enterCurrentPin).toBe(true);
    expect(parsed.confirmNewPin).toBe(true);
    expect(parsed.format.minLength).toBe(6);
    expect(parsed.format.maxLength).toBe(8);
    expect(parsed.numberMessage).toBe(3);
    expect(parsed.messageIndexes).toEqual([0, 1, 2]);
    expect(hex(parsed.apdu)).toBe(`0024008010${'FF'.repeat(16)}`);
  });
});

describe('insertPin', () => {
  it('writes an ASCII PIN left-justified, keeping the template padding', async () => {
    const apdu = await buildVerifyApdu(scriptedPad('123456'), PIV_VERIFY_STRUCTURE);
    expect(hex(apdu as Uint8Array)).toBe('0020008008313233343536FFFF');
  });

  it('writes BCD right-justified (bmFormatString 85, block 4): "123" → FF FF F1 23', () => {
    const format = parsePinVerifyStructure(
      fromHex('00 00 85 04 00 08 01 02 01 09 04 00 00 00 00 09 00 00 00 00 20 00 81 04 FF FF FF FF'),
    ).format;
    const apdu = fromHex('00 20 00 81 04 FF FF FF FF');
    insertPin(apdu, format, '123');
    expect(hex(apdu)).toBe('0020008104FFFFF123');
  });

  it('writes an ISO 9564 format 2 block: BCD at byte 1, 4-bit length at bit 4 → 24 12 34 FF..', () => {
    // bmFormatString 89 (bytes, position 1, left, BCD), bmPINBlockString 47 (4-bit length, 7-byte block),
    // bmPINLengthFormat 04 (bits, position 4).
    const format = parsePinVerifyStructure(
      fromHex('00 00 89 47 04 0C 04 02 01 09 04 00 00 00 00 0D 00 00 00 00 20 00 81 08 20 FF FF FF FF FF FF FF'),
    ).format;
    const apdu = fromHex('00 20 00 81 08 20 FF FF FF FF FF FF FF');
    insertPin(apdu, format, '1234');
    expect(hex(apdu)).toBe('002000810824123' + '4FFFFFFFFFF');
  });

  it('answers 64 03 for a PIN shorter than the minimum, 64 01 on Cancel', async () => {
    expect(await buildVerifyApdu(scriptedPad('12345'), PIV_VERIFY_STRUCTURE)).toBe(0x6403);
    expect(await buildVerifyApdu(scriptedPad('123456789'), PIV_VERIFY_STRUCTURE)).toBe(0x6403);
    expect(await buildVerifyApdu(scriptedPad(undefined), PIV_VERIFY_STRUCTURE)).toBe(0x6401);
  });
});

describe('buildModifyApdu', () => {
  it('asks current, new, confirmation and places them at offsets 0 and 8', async () => {
    const pad = scriptedPad('123456', '87654321', '87654321');
    const apdu = await buildModifyApdu(pad, PIV_MODIFY_STRUCTURE);
    expect(pad.prompts).toEqual(['modify-old', 'modify-new', 'modify-new']);
    expect(hex(apdu as Uint8Array)).toBe('0024008010313233343536FFFF3837363534333231');
  });

  it('answers 64 02 when the confirmation differs and 64 01 on Cancel', async () => {
    expect(await buildModifyApdu(scriptedPad('123456', '87654321', '87654320'), PIV_MODIFY_STRUCTURE)).toBe(0x6402);
    expect(await buildModifyApdu(scriptedPad('123456', undefined), PIV_MODIFY_STRUCTURE)).toBe(0x6401);
  });
});

describe('SimTransport with a PIN pad', () => {
  it('announces the features and answers CM_IOCTL_GET_FEATURE_REQUEST with them', async () => {
    const transport = new SimTransport(new PinCard(), { pinPad: scriptedPad() });
    expect(transport.features).toEqual({ verifyPinDirect: 0x42330006, modifyPinDirect: 0x42330007 });
    expect(hex(await transport.control(0x42000d48, new Uint8Array(0)))).toBe('0604423300060704423300' + '07');
  });

  it('sends the formatted VERIFY to the card and returns its status word', async () => {
    const card = new PinCard();
    const transport = new SimTransport(card, { pinPad: scriptedPad('123456', '654321', undefined) });
    const code = transport.features?.verifyPinDirect as number;
    expect(hex(await transport.control(code, PIV_VERIFY_STRUCTURE))).toBe('9000');
    expect(card.commands).toEqual(['0020008008313233343536FFFF']);
    expect(hex(await transport.control(code, PIV_VERIFY_STRUCTURE))).toBe('63C2');
    expect(hex(await transport.control(code, PIV_VERIFY_STRUCTURE))).toBe('6401');
    expect(card.commands).toHaveLength(2);
  });

  it('forwards control through interceptTransmit decorators', async () => {
    const transport = interceptTransmit(new SimTransport(new PinCard(), { pinPad: scriptedPad('123456') }), (c, send) =>
      send(c),
    );
    expect(
      hex(await (transport.control as NonNullable<typeof transport.control>)(0x42330006, PIV_VERIFY_STRUCTURE)),
    ).toBe('9000');
  });

  it('without a PIN pad has no features and refuses the PIN control codes', async () => {
    const transport = new SimTransport(new PinCard());
    expect(transport.features).toBeUndefined();
    await expect(transport.control(0x42330006, PIV_VERIFY_STRUCTURE)).rejects.toMatchObject({
      name: 'SCARD_E_UNSUPPORTED_FEATURE',
    });
  });
});
