/**
 * @packageDocumentation
 * The compact security attributes (tag `8C`) of GIDS files and the check of one access condition against the
 * card's security status (docs/spec/gids.md §2; ISO/IEC 7816-4 §7.4.3).
 *
 * The first byte is the access-mode byte; one security-condition byte follows for each of its bits b7..b1 that
 * is set, highest bit first. What each bit protects depends on the file:
 * - BER-TLV DO files: b2 = PUT DATA, b1 = GET DATA;
 * - key files: b4 = DELETE FILE, b3 = use (security operations, authentication), b2 = write (generate, import,
 *   PUT KEY), b1 = read (the public key);
 * - the application DF: b2 = CREATE FILE, b1 = DELETE FILE of a child.
 * A bit that is absent means "never". Bit b8 of the access-mode byte is ignored (GIDS key files set it).
 *
 * A condition byte: `00` always, `FF` never; otherwise b5 (`10`) = user PIN, b6 (`20`) = external/mutual
 * authentication with the admin key; b8 set = all listed conditions, clear = at least one.
 */
import { failWith } from '@minidriver/card-kit/sim';
import { SW } from '@minidriver/iso7816';

/** Access-mode bits by operation (see the module comment). */
export const AccessBit = {
  read: 1,
  write: 2,
  use: 3,
  delete: 4,
  createChild: 2,
  deleteChild: 1,
} as const;

/** What the card knows about the current authentication state. */
export interface SecurityStatus {
  readonly userVerified: boolean;
  readonly adminAuthenticated: boolean;
  /** Before the application is activated, every condition other than "never" is met (life cycle docs/spec/gids.md §2). */
  readonly initialization: boolean;
}

/** A decoded compact security attribute: the condition byte of each access-mode bit present. */
export class CompactAcl {
  readonly #conditions = new Map<number, number>();
  readonly encoded: Uint8Array;

  private constructor(encoded: Uint8Array) {
    this.encoded = encoded;
  }

  /** Decodes the value of tag `8C`; throws 6A80 when the condition count does not match the access-mode byte. */
  static decode(value: Uint8Array): CompactAcl {
    if (value.length < 1) failWith(SW.INCORRECT_DATA);
    const accessMode = value[0] as number;
    const acl = new CompactAcl(Uint8Array.from(value));
    let offset = 1;
    for (let bit = 7; bit >= 1; bit--) {
      if ((accessMode & (1 << (bit - 1))) === 0) continue;
      const condition = value[offset++];
      if (condition === undefined) failWith(SW.INCORRECT_DATA);
      acl.#conditions.set(bit, condition);
    }
    if (offset !== value.length) failWith(SW.INCORRECT_DATA);
    return acl;
  }

  /** The condition byte protecting access-mode bit `bit` (FF "never" when the bit is absent). */
  condition(bit: number): number {
    return this.#conditions.get(bit) ?? 0xff;
  }

  /** Throws 6982 unless the condition of `bit` is met by `status`. */
  require(bit: number, status: SecurityStatus): void {
    if (!conditionMet(this.condition(bit), status)) failWith(SW.SECURITY_STATUS_NOT_SATISFIED);
  }
}

/** True when security condition byte `condition` is met. */
export function conditionMet(condition: number, status: SecurityStatus): boolean {
  if (condition === 0x00) return true;
  if (condition === 0xff) return false;
  const wantsUser = (condition & 0x10) !== 0;
  const wantsAdmin = (condition & 0x20) !== 0;
  if (!wantsUser && !wantsAdmin) return false;
  const user = status.initialization || status.userVerified;
  const admin = status.initialization || status.adminAuthenticated;
  if ((condition & 0x80) !== 0) return (!wantsUser || user) && (!wantsAdmin || admin);
  return (wantsUser && user) || (wantsAdmin && admin);
}
