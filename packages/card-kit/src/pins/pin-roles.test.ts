import {
  CARD_AUTHENTICATE_GENERATE_SESSION_PIN,
  CARD_AUTHENTICATE_SESSION_PIN,
  CARD_PIN_SILENT_CONTEXT,
  CARD_PIN_STRENGTH_PLAINTEXT,
  createPinSet,
  PIN_INFO_REQUIRE_SECURE_ENTRY,
  PinCachePolicyType,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
  SecretPurpose,
  SecretType,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import {
  PinRoleTable,
  requireNoRetryCountChange,
  requireNoSessionPin,
  SIGNATURE_PIN_ID,
  UNBLOCK_PIN_ID,
} from './pin-roles.js';

/**
 * A table that is no card's: a user PIN typed on the reader (secure entry), unblocked by the admin or an
 * unblock-only PIN that either of them changes and that also unblocks the admin, and a signature PIN valid
 * for one signature.
 */
const table = new PinRoleTable([
  {
    id: ROLE_USER,
    type: SecretType.ExternalPinType,
    purpose: SecretPurpose.PrimaryCardPin,
    changedBy: [ROLE_USER],
    unblockedBy: [ROLE_ADMIN, UNBLOCK_PIN_ID],
    flags: PIN_INFO_REQUIRE_SECURE_ENTRY,
  },
  {
    id: ROLE_ADMIN,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.AdministratorPin,
    changedBy: [ROLE_ADMIN],
    unblockedBy: [UNBLOCK_PIN_ID],
  },
  {
    id: UNBLOCK_PIN_ID,
    type: SecretType.AlphaNumericPinType,
    purpose: SecretPurpose.UnblockOnlyPin,
    changedBy: [ROLE_ADMIN, UNBLOCK_PIN_ID],
    unblockedBy: [],
    cachePolicy: PinCachePolicyType.PinCacheNone,
  },
  {
    id: SIGNATURE_PIN_ID,
    type: SecretType.ExternalPinType,
    purpose: SecretPurpose.DigitalSignaturePin,
    changedBy: [ROLE_USER, SIGNATURE_PIN_ID],
    unblockedBy: [UNBLOCK_PIN_ID],
    cachePolicy: PinCachePolicyType.PinCacheAlwaysPrompt,
    flags: PIN_INFO_REQUIRE_SECURE_ENTRY,
  },
]);

describe('PinRoleTable', () => {
  it('yields PIN_LIST, PIN_INFO and the PIN strength from the declarations', () => {
    expect(table.pinList).toBe(0b11110);
    expect(table.pinList).toBe(createPinSet(ROLE_USER, ROLE_ADMIN, UNBLOCK_PIN_ID, SIGNATURE_PIN_ID));
    expect(table.pinInfo(ROLE_USER)).toEqual({
      pinType: SecretType.ExternalPinType,
      purpose: SecretPurpose.PrimaryCardPin,
      changePermission: 0b10,
      unblockPermission: 0b1100,
      cachePolicy: { type: PinCachePolicyType.PinCacheNormal, info: 0 },
      flags: PIN_INFO_REQUIRE_SECURE_ENTRY,
    });
    expect(table.pinInfo(SIGNATURE_PIN_ID)).toMatchObject({
      changePermission: 0b10010,
      unblockPermission: 0b1000,
      cachePolicy: { type: PinCachePolicyType.PinCacheAlwaysPrompt, info: 0 },
      flags: PIN_INFO_REQUIRE_SECURE_ENTRY,
    });
    expect(table.pinInfo(ROLE_ADMIN)).toMatchObject({ changePermission: 0b100, unblockPermission: 0b1000, flags: 0 });
    expect(table.pinInfo(UNBLOCK_PIN_ID).changePermission).toBe(0b1100);
    expect(table.pinInfo(UNBLOCK_PIN_ID).cachePolicy.type).toBe(PinCachePolicyType.PinCacheNone);
    expect(table.pinInfo(SIGNATURE_PIN_ID, { cachePolicy: PinCachePolicyType.PinCacheNormal }).cachePolicy.type).toBe(
      PinCachePolicyType.PinCacheNormal,
    );
    expect(table.pinInfo(ROLE_ADMIN, { type: SecretType.ExternalPinType }).pinType).toBe(SecretType.ExternalPinType);
    expect(table.ids()).toEqual([ROLE_USER, ROLE_ADMIN, UNBLOCK_PIN_ID, SIGNATURE_PIN_ID]);
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

  it('session PIN policy: either session flag is SCARD_E_UNSUPPORTED_FEATURE, other flags pass', () => {
    expect(() => requireNoSessionPin(0)).not.toThrow();
    expect(() => requireNoSessionPin(CARD_PIN_SILENT_CONTEXT)).not.toThrow();
    for (const flag of [CARD_AUTHENTICATE_GENERATE_SESSION_PIN, CARD_AUTHENTICATE_SESSION_PIN]) {
      expect(() => requireNoSessionPin(flag | CARD_PIN_SILENT_CONTEXT)).toThrow('SCARD_E_UNSUPPORTED_FEATURE');
    }
  });
});
