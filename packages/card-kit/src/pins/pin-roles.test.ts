import {
  CARD_PIN_STRENGTH_PLAINTEXT,
  createPinSet,
  PinCachePolicyType,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { PinRoleTable, requireNoRetryCountChange, SIGNATURE_PIN_ID, UNBLOCK_PIN_ID } from './pin-roles.js';

const table = new PinRoleTable([
  {
    id: ROLE_USER,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [UNBLOCK_PIN_ID],
  },
  {
    id: ROLE_ADMIN,
    type: SecretType.ChallengeResponsePinType,
    purpose: SecretPurpose.AdministratorPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [],
  },
  {
    id: UNBLOCK_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changedBy: [UNBLOCK_PIN_ID],
    unblockedBy: [],
    cachePolicy: PinCachePolicyType.PinCacheNone,
  },
  {
    id: SIGNATURE_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.DigitalSignaturePin,
    changedBy: [SIGNATURE_PIN_ID],
    unblockedBy: [UNBLOCK_PIN_ID],
    cachePolicy: PinCachePolicyType.PinCacheAlwaysPrompt,
  },
]);

describe('PinRoleTable', () => {
  it('yields PIN_LIST, PIN_INFO and the PIN strength from the declarations', () => {
    expect(table.pinList).toBe(0b11110);
    expect(table.pinList).toBe(createPinSet(ROLE_USER, ROLE_ADMIN, UNBLOCK_PIN_ID, SIGNATURE_PIN_ID));
    expect(table.pinInfo(ROLE_USER)).toEqual({
      pinType: SecretType.AlphaNumericPinType,
      purpose: SecretPurpose.PrimaryCardPin,
      changePermission: 0b10,
      unblockPermission: 0b1000,
      cachePolicy: { type: PinCachePolicyType.PinCacheNormal, info: 0 },
      flags: 0,
    });
    expect(table.pinInfo(SIGNATURE_PIN_ID).cachePolicy.type).toBe(PinCachePolicyType.PinCacheAlwaysPrompt);
    expect(table.pinInfo(ROLE_USER, { type: SecretType.ExternalPinType }).pinType).toBe(SecretType.ExternalPinType);
    expect(table.strength(ROLE_ADMIN, 'change')).toBe(CARD_PIN_STRENGTH_PLAINTEXT);
  });

  it('one value for the shared PIN ids: signature PIN 4, unblock-only PIN 3', () => {
    expect(SIGNATURE_PIN_ID).toBe(4);
    expect(UNBLOCK_PIN_ID).toBe(3);
  });

  it('a PIN id not in the table is SCARD_E_INVALID_PARAMETER for every question', () => {
    for (const ask of [() => table.pinInfo(5), () => table.role(7), () => table.strength(0, 'verify')]) {
      expect(ask).toThrow(ScardError);
      try {
        ask();
      } catch (error) {
        expect((error as ScardError).name).toBe('SCARD_E_INVALID_PARAMETER');
      }
    }
    expect(table.has(5)).toBe(false);
    expect(() => new PinRoleTable([table.role(1), table.role(1)])).toThrow('declared twice');
  });

  it('cRetryCount policy: 0 is accepted, anything else is SCARD_E_UNSUPPORTED_FEATURE', () => {
    expect(() => requireNoRetryCountChange(0)).not.toThrow();
    expect(() => requireNoRetryCountChange(3)).toThrow('SCARD_E_UNSUPPORTED_FEATURE');
  });
});
