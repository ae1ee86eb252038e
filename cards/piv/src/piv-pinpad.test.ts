/**
 * Secure PIN entry end to end: the PIV plugin through CardSession over a SimTransport whose simulated
 * reader has a PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT), against the PIV simulator. The expected
 * PIN_VERIFY_STRUCTURE is worked by hand from the part 10 v2.02.09 §2.5.2 layout (see the comments).
 */
import { createHash, verify } from 'node:crypto';
import { parsePinVerifyStructure, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CardSession } from '@minidriver/core';
import { type PinPad, SimTransport } from '@minidriver/sim';
import { CalgHash, KeySpec, ROLE_USER, reverseBytes, SecretType, toHex } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { PivSimulator } from '../sim/index.js';
import { plugin, SIGNATURE_PIN_ID } from './index.js';
import { encodePivVerifyStructure, pinPadStatusError } from './piv-pin-pad.js';
import { provisionedCard } from './testing/provisioned-card.js';

function pad(...answers: (string | undefined)[]): PinPad {
  return { enterPin: async () => answers.shift() };
}

async function openOnPinPad(card: PivSimulator, pinPad?: PinPad) {
  const transport = new SimTransport(card, pinPad === undefined ? {} : { pinPad });
  const session = await CardSession.open(plugin, transport);
  return { transport, session };
}

describe('PIV on a PIN-pad reader', () => {
  it('builds the PIN_VERIFY_STRUCTURE for VERIFY 00 20 00 80 byte for byte', () => {
    // 00 00 (timers) 82 (bytes, pos 0, left, ASCII) 08 (block 8) 00 (no length) 08 06 (max 8, min 6)
    // 02 (validation key) 01 (one message) 09 04 (0x0409) 00 (msg index) 00 00 00 (TEO) 0D 00 00 00 (13)
    // then the APDU 00 20 00 80 08 FF*8.
    expect(toHex(encodePivVerifyStructure()).toUpperCase()).toBe(
      '00008208000806020109040000000' + '00D0000000020008008FFFFFFFFFFFFFFFF',
    );
  });

  it('encodes a structure the simulated reader parses back to the PIV format', () => {
    const parsed = parsePinVerifyStructure(encodePivVerifyStructure());
    expect(parsed.format).toMatchObject({
      encoding: 'ascii',
      blockSize: 8,
      pinPosition: 0,
      minLength: 6,
      maxLength: 8,
    });
    expect(toHex(parsed.apdu).toUpperCase()).toBe('0020008008FFFFFFFFFFFFFFFF');
  });

  it('reports ExternalPinType for the card PIN and verifies on the pad; a signature then works', async () => {
    const card = await provisionedCard('pin-pad');
    const { session } = await openOnPinPad(card, pad('123456'));
    expect(await session.getProperty('PIN Information', ROLE_USER)).toMatchObject({
      pinType: SecretType.ExternalPinType,
      purpose: 5,
    });
    expect(await session.getProperty('PIN Information', SIGNATURE_PIN_ID)).toMatchObject({
      pinType: SecretType.ExternalPinType,
    });
    await session.authenticateEx(ROLE_USER, 0, undefined);
    const info = await session.getContainerInfo(0);
    const publicKey = info.keyExchangePublicKey ?? info.signaturePublicKey;
    const keySpec = info.keyExchangePublicKey === undefined ? KeySpec.AT_SIGNATURE : KeySpec.AT_KEYEXCHANGE;
    const hash = new Uint8Array(createHash('sha256').update('pin pad').digest());
    const { signature } = await session.signData({
      version: 1,
      containerIndex: 0,
      keySpec,
      signingFlags: 0,
      hashAlgorithmId: CalgHash.CALG_SHA_256,
      data: hash,
    });
    expect(
      verify('sha256', Buffer.from('pin pad'), publicKeyBlobToKeyObject(publicKey!), reverseBytes(signature!)),
    ).toBe(true);
    await session.close();
  });

  it('a wrong PIN on the pad is SCARD_W_WRONG_CHV with the retries the card reports', async () => {
    const { session } = await openOnPinPad(new PivSimulator({ seed: 'pin-pad-wrong' }), pad('654321'));
    await expect(session.authenticateEx(ROLE_USER, 0, undefined)).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 2,
    });
    await session.close();
  });

  it('Cancel on the pad is SCARD_W_CANCELLED_BY_USER and spends no try', async () => {
    const { session } = await openOnPinPad(new PivSimulator({ seed: 'pin-pad-cancel' }), pad(undefined, '000000'));
    await expect(session.authenticateEx(ROLE_USER, 0, undefined)).rejects.toMatchObject({
      name: 'SCARD_W_CANCELLED_BY_USER',
    });
    await expect(session.authenticateEx(ROLE_USER, 0, undefined)).rejects.toMatchObject({
      name: 'SCARD_W_WRONG_CHV',
      retriesLeft: 2,
    });
    await session.close();
  });

  it('a PIN typed on the host keyboard is still accepted on a PIN-pad reader', async () => {
    const { session } = await openOnPinPad(new PivSimulator({ seed: 'pin-pad-host' }), pad());
    await session.authenticateEx(ROLE_USER, 0, new TextEncoder().encode('123456'));
    await session.close();
  });

  it('without a PIN pad the PIN stays AlphaNumericPinType and PIN data is required', async () => {
    const { session } = await openOnPinPad(new PivSimulator({ seed: 'no-pin-pad' }));
    expect(await session.getProperty('PIN Information', ROLE_USER)).toMatchObject({
      pinType: SecretType.AlphaNumericPinType,
    });
    await expect(session.authenticateEx(ROLE_USER, 0, undefined)).rejects.toMatchObject({
      name: 'SCARD_E_INVALID_PARAMETER',
    });
    await session.close();
  });

  it('maps the reader answers: 64 00 timeout, 64 02 / 64 03 invalid CHV, 69 83 blocked', () => {
    expect(pinPadStatusError(0x6400, 'test').name).toBe('SCARD_E_TIMEOUT');
    expect(pinPadStatusError(0x6401, 'test').name).toBe('SCARD_W_CANCELLED_BY_USER');
    expect(pinPadStatusError(0x6402, 'test').name).toBe('SCARD_E_INVALID_CHV');
    expect(pinPadStatusError(0x6403, 'test').name).toBe('SCARD_E_INVALID_CHV');
    expect(pinPadStatusError(0x6983, 'test').name).toBe('SCARD_W_CHV_BLOCKED');
    expect(pinPadStatusError(0x63c1, 'test')).toMatchObject({ name: 'SCARD_W_WRONG_CHV', retriesLeft: 1 });
  });
});
