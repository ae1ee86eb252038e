/**
 * Group 3 — PIN semantics (docs/spec/minidriver.md §5.2, §6.8, §6.9, §11 "PIN"): a wrong PIN is SCARD_W_WRONG_CHV with
 * the retries left decreasing by one, the PIN blocks when they run out (SCARD_W_CHV_BLOCKED, even for
 * the right PIN), unblocking restores it, PIN List / PIN Information agree, and the admin's
 * challenge/response behaves as docs/spec/minidriver.md §6.6 says.
 */
import {
  CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
  CARD_AUTHENTICATE_PIN_PIN,
  CardProperty,
  isPinInSet,
  PIN_CHANGE_FLAG_UNBLOCK,
  type PinId,
  ROLE_ADMIN,
  ROLE_USER,
  ScardError,
} from '@minidriver/spec';
import { describe, it } from 'vitest';
import {
  ConformanceFailure,
  check,
  closeRig,
  describeError,
  must,
  mustFail,
  openRig,
  type Rig,
  userPinOf,
  wrongPinOf,
} from '../harness.js';
import type { ConformanceOptions } from '../options.js';

const UNKNOWN_RETRIES = 0xffffffff;

/** Retries left reported by a wrong-PIN failure, checked to be a count or the "unknown" value (docs/spec/minidriver.md §5.2). */
function retriesOf(error: ScardError, rule: string): number {
  const retries = error.retriesLeft;
  check(
    typeof retries === 'number' && Number.isInteger(retries) && retries >= 0,
    `${rule}: SCARD_W_WRONG_CHV must carry the retries left (or 0xFFFFFFFF when unknown, docs/spec/minidriver.md §5.2 common rules)`,
    `retriesLeft is ${String(retries)}`,
  );
  return retries;
}

/** Presents the wrong PIN until the card blocks; returns the number of wrong attempts it took. */
async function exhaustRetries(rig: Rig, options: ConformanceOptions): Promise<number> {
  for (let attempt = 1; attempt <= 16; attempt++) {
    try {
      await rig.session.authenticatePin('user', wrongPinOf(options));
    } catch (error) {
      if (ScardError.hasCode(error, 'SCARD_W_CHV_BLOCKED')) return attempt;
      if (!ScardError.hasCode(error, 'SCARD_W_WRONG_CHV')) {
        throw new ConformanceFailure(
          `docs/spec/minidriver.md §6.8 wrong PIN attempt ${attempt}: expected SCARD_W_WRONG_CHV, got ${describeError(error)}`,
        );
      }
      if (error.retriesLeft === 0) return attempt;
      continue;
    }
    throw new ConformanceFailure(`docs/spec/minidriver.md §6.8 wrong PIN attempt ${attempt} succeeded`);
  }
  throw new ConformanceFailure('docs/spec/minidriver.md §6.8 the user PIN did not block after 16 wrong attempts');
}

/** Unblocks the user PIN as the options say, setting `newPin`. */
async function unblockUserPin(rig: Rig, options: ConformanceOptions, newPin: Uint8Array): Promise<void> {
  const unblock = options.credentials.unblock;
  if (unblock === undefined) return;
  if (unblock.kind === 'puk') {
    await must(
      rig.session.unblockPin('user', new Uint8Array(unblock.puk), newPin, 0, CARD_AUTHENTICATE_PIN_PIN),
      'docs/spec/minidriver.md §5.2.4 CardUnblockPin("user", PUK, CARD_AUTHENTICATE_PIN_PIN)',
    );
    return;
  }
  if (unblock.kind === 'pin-id') {
    await must(
      rig.session.changeAuthenticatorEx(
        PIN_CHANGE_FLAG_UNBLOCK,
        unblock.pinId as PinId,
        new Uint8Array(unblock.pin),
        ROLE_USER,
        newPin,
      ),
      `docs/spec/minidriver.md §5.2.9 CardChangeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, PIN ${unblock.pinId}, …, ROLE_USER)`,
    );
    return;
  }
  const challenge = await must(rig.session.getChallenge(), 'docs/spec/minidriver.md §5.2.2 CardGetChallenge');
  await must(
    rig.session.unblockPin('user', unblock.respond(challenge), newPin, 0, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE),
    'docs/spec/minidriver.md §5.2.4 CardUnblockPin("user", response, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE)',
  );
}

async function withFreshCard(options: ConformanceOptions, test: (rig: Rig) => Promise<void>): Promise<void> {
  const rig = await openRig(options);
  try {
    await test(rig);
  } finally {
    await closeRig(rig);
  }
}

/**
 * The retries left after a wrong PIN: the call must fail with SCARD_W_WRONG_CHV (retries from the error,
 * see retriesOf) or SCARD_W_CHV_BLOCKED (none left).
 */
async function retriesAfterWrongPin(attempt: Promise<unknown>, rule: string): Promise<number> {
  const failure = await mustFail(attempt, ['SCARD_W_WRONG_CHV', 'SCARD_W_CHV_BLOCKED'], rule);
  return ScardError.hasCode(failure, 'SCARD_W_CHV_BLOCKED') ? 0 : retriesOf(failure, rule);
}

export function definePinTests(options: ConformanceOptions): void {
  describe('PIN semantics (docs/spec/minidriver.md §5.2, §6)', () => {
    it('the right user PIN authenticates (docs/spec/minidriver.md §5.2.1) and shows in CP_CARD_AUTHENTICATED_STATE (docs/spec/minidriver.md §7.1)', () =>
      withFreshCard(options, async (rig) => {
        await must(
          rig.session.authenticatePin('user', userPinOf(options)),
          'docs/spec/minidriver.md §5.2.1 CardAuthenticatePin("user") with the right PIN',
        );
        if (rig.session.version >= 6) {
          const state = await must(
            rig.session.getProperty(CardProperty.CP_CARD_AUTHENTICATED_STATE),
            'docs/spec/minidriver.md §7.1 CP_CARD_AUTHENTICATED_STATE',
          );
          check(
            isPinInSet(state, ROLE_USER),
            'docs/spec/minidriver.md §7.1 CP_CARD_AUTHENTICATED_STATE includes ROLE_USER after authentication',
            `it is 0x${state.toString(16)}`,
          );
          await must(
            rig.session.authenticateEx(ROLE_USER, 0, userPinOf(options)),
            'docs/spec/minidriver.md §5.2.7 CardAuthenticateEx(ROLE_USER)',
          );
        }
      }));

    it('a wrong PIN is SCARD_W_WRONG_CHV and each one decrements the retries left by 1 (docs/spec/minidriver.md §5.2, §6.8)', () =>
      withFreshCard(options, async (rig) => {
        const first = await mustFail(
          rig.session.authenticatePin('user', wrongPinOf(options)),
          'SCARD_W_WRONG_CHV',
          'docs/spec/minidriver.md §5.2.1/§6.8 first wrong PIN',
        );
        const retries1 = retriesOf(first, 'docs/spec/minidriver.md §6.8 first wrong PIN');
        if (retries1 === UNKNOWN_RETRIES) return;
        check(
          retries1 >= 1,
          'docs/spec/minidriver.md §6.8 a fresh card has more than one PIN try',
          `the first wrong PIN left ${retries1}`,
        );
        const retries2 = await retriesAfterWrongPin(
          rig.session.authenticatePin('user', wrongPinOf(options)),
          'docs/spec/minidriver.md §6.8 second wrong PIN',
        );
        check(
          retries2 === retries1 - 1,
          'docs/spec/minidriver.md §6.8 each wrong PIN decrements the retries left by 1',
          `${retries1} then ${retries2}`,
        );
        let remaining = retries2;
        if (rig.session.version >= 6 && retries2 > 1) {
          const retries3 = await retriesAfterWrongPin(
            rig.session.authenticateEx(ROLE_USER, 0, wrongPinOf(options)),
            'docs/spec/minidriver.md §5.2.7 CardAuthenticateEx with a wrong PIN',
          );
          check(
            retries3 === retries2 - 1,
            'docs/spec/minidriver.md §5.2.7/§6.8 CardAuthenticateEx counts wrong PINs like CardAuthenticatePin',
            `${retries2} then ${retries3}`,
          );
          remaining = retries3;
        }
        // The right PIN still works while tries are left.
        if (remaining > 0)
          await must(
            rig.session.authenticatePin('user', userPinOf(options)),
            'docs/spec/minidriver.md §6.8 the right PIN while tries are left',
          );
      }));

    it('the PIN blocks when the tries run out; then even the right PIN is SCARD_W_CHV_BLOCKED (docs/spec/minidriver.md §5.2, §6.8)', () =>
      withFreshCard(options, async (rig) => {
        await exhaustRetries(rig, options);
        const blocked = await mustFail(
          rig.session.authenticatePin('user', userPinOf(options)),
          'SCARD_W_CHV_BLOCKED',
          'docs/spec/minidriver.md §5.2 "calling again after a 0 was reported must fail with SCARD_W_CHV_BLOCKED"',
        );
        check(
          blocked.retriesLeft === undefined || blocked.retriesLeft === 0,
          'docs/spec/minidriver.md §6.8 a blocked PIN reports 0 tries',
          `it reports ${blocked.retriesLeft}`,
        );
        await mustFail(
          rig.session.authenticatePin('user', wrongPinOf(options)),
          'SCARD_W_CHV_BLOCKED',
          'docs/spec/minidriver.md §6.8 any attempt on a blocked PIN',
        );
      }));

    if (options.credentials.unblock) {
      const unblock = options.credentials.unblock;
      const how =
        unblock.kind === 'puk' ? 'the PUK' : unblock.kind === 'pin-id' ? `PIN ${unblock.pinId}` : 'the admin response';
      it(`unblocking with ${how} restores the PIN with a new value (docs/spec/minidriver.md §5.2.4, §6.8)`, () =>
        withFreshCard(options, async (rig) => {
          await exhaustRetries(rig, options);
          const newPin = new TextEncoder().encode('24682468');
          await unblockUserPin(rig, options, newPin);
          await must(
            rig.session.authenticatePin('user', new Uint8Array(newPin)),
            'docs/spec/minidriver.md §6.8 after unblocking, the new PIN authenticates',
          );
          await mustFail(
            rig.session.authenticatePin('user', userPinOf(options)),
            'SCARD_W_WRONG_CHV',
            'docs/spec/minidriver.md §6.8 after unblocking, the old PIN is wrong',
          );
          await must(
            rig.session.authenticatePin('user', new Uint8Array(newPin)),
            'docs/spec/minidriver.md §6.8 the retry counter was reset by the unblock',
          );
        }));
      if (options.credentials.unblock.kind === 'puk') {
        it('unblocking with a wrong PUK is SCARD_W_WRONG_CHV and leaves the PIN blocked (docs/spec/minidriver.md §5.2.4)', () =>
          withFreshCard(options, async (rig) => {
            await exhaustRetries(rig, options);
            const wrongPuk = new TextEncoder().encode('00000000');
            await mustFail(
              rig.session.unblockPin(
                'user',
                wrongPuk,
                new TextEncoder().encode('13571357'),
                0,
                CARD_AUTHENTICATE_PIN_PIN,
              ),
              ['SCARD_W_WRONG_CHV', 'SCARD_W_CHV_BLOCKED'],
              'docs/spec/minidriver.md §5.2.4 CardUnblockPin with wrong authentication data',
            );
            await mustFail(
              rig.session.authenticatePin('user', userPinOf(options)),
              'SCARD_W_CHV_BLOCKED',
              'docs/spec/minidriver.md §6.8 a failed unblock leaves the PIN blocked',
            );
          }));
      }
    } else {
      it('the card declares no unblock: CardUnblockPin is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.2.4)', () =>
        withFreshCard(options, async (rig) => {
          const pin = new TextEncoder().encode('12345678');
          await mustFail(
            rig.session.unblockPin('user', pin, pin, 0, CARD_AUTHENTICATE_PIN_PIN),
            'SCARD_E_UNSUPPORTED_FEATURE',
            'docs/spec/minidriver.md §5.2.4 a card that cannot unblock',
          );
        }));
    }

    it('PIN List and PIN Information agree with the declared credentials (docs/spec/minidriver.md §6.9, §7.1)', () =>
      withFreshCard(options, async (rig) => {
        if (rig.session.version < 6) return;
        const list = await must(
          rig.session.getProperty(CardProperty.CP_CARD_LIST_PINS),
          'docs/spec/minidriver.md §7.1 CP_CARD_LIST_PINS',
        );
        check(
          isPinInSet(list, ROLE_USER),
          'docs/spec/minidriver.md §6.1 CP_CARD_LIST_PINS includes ROLE_USER',
          `it is 0x${list.toString(16)}`,
        );
        for (let id = 1; id <= 7; id++) {
          if (!isPinInSet(list, id)) {
            await mustFail(
              rig.session.authenticateEx(id as PinId, 0, userPinOf(options)),
              'SCARD_E_INVALID_PARAMETER',
              `docs/spec/minidriver.md §11 CardAuthenticateEx with PIN id ${id}, which CP_CARD_LIST_PINS (0x${list.toString(16)}) does not list`,
            );
            continue;
          }
          const info = await must(
            rig.session.getProperty(CardProperty.CP_CARD_PIN_INFO, id),
            `docs/spec/minidriver.md §7.1 CP_CARD_PIN_INFO of listed PIN ${id}`,
          );
          check(
            info.pinType >= 0 && info.pinType <= 3,
            `docs/spec/minidriver.md §6.3 PIN_INFO(${id}).PinType is a SECRET_TYPE`,
            `it is ${info.pinType}`,
          );
          check(
            info.purpose >= 0 && info.purpose <= 6,
            `docs/spec/minidriver.md §6.4 PIN_INFO(${id}).PinPurpose is a SECRET_PURPOSE`,
            `it is ${info.purpose}`,
          );
          for (const [field, set] of [
            ['dwChangePermission', info.changePermission],
            ['dwUnblockPermission', info.unblockPermission],
          ] as const) {
            check(
              (set & ~list & ~1) === 0,
              `docs/spec/minidriver.md §6.9 PIN_INFO(${id}).${field} names only listed PINs`,
              `0x${set.toString(16)} against PIN List 0x${list.toString(16)}`,
            );
          }
        }
        const user = await must(
          rig.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER),
          'docs/spec/minidriver.md §7.1 CP_CARD_PIN_INFO(ROLE_USER)',
        );
        if (options.credentials.unblock === undefined) {
          check(
            user.unblockPermission === 0,
            'docs/spec/minidriver.md §6.9 a PIN that cannot be unblocked has dwUnblockPermission 0',
            `it is 0x${user.unblockPermission.toString(16)}`,
          );
        } else {
          check(
            (user.unblockPermission & ~(1 << ROLE_USER)) !== 0,
            'docs/spec/minidriver.md §6.9 the user PIN, which can be unblocked, names its unblocking PIN in dwUnblockPermission',
            `it is 0x${user.unblockPermission.toString(16)}`,
          );
        }
        if (options.credentials.admin?.kind === 'challenge-response' && isPinInSet(list, ROLE_ADMIN)) {
          const admin = await must(
            rig.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_ADMIN),
            'docs/spec/minidriver.md §7.1 CP_CARD_PIN_INFO(ROLE_ADMIN)',
          );
          check(
            admin.pinType === 2,
            'docs/spec/minidriver.md §6.9 a challenge/response admin has PinType ChallengeResponsePinType (2)',
            `it is ${admin.pinType}`,
          );
        }
      }));

    const admin = options.credentials.admin;
    if (admin?.kind === 'challenge-response') {
      it('admin challenge/response: challenges differ, a stale response fails, a fresh one authenticates (docs/spec/minidriver.md §6.6)', () =>
        withFreshCard(options, async (rig) => {
          const first = await must(rig.session.getChallenge(), 'docs/spec/minidriver.md §5.2.2 CardGetChallenge');
          check(
            first.length > 0 && first.length % 8 === 0,
            'docs/spec/minidriver.md §6.6 a challenge is one or more 8-byte blocks',
            `it has ${first.length} bytes`,
          );
          const second = await must(
            rig.session.getChallenge(),
            'docs/spec/minidriver.md §5.2.2 CardGetChallenge again',
          );
          check(
            !Buffer.from(first).equals(Buffer.from(second)),
            'docs/spec/minidriver.md §6.6/§11 two consecutive challenges differ',
          );
          await mustFail(
            rig.session.authenticateChallenge(admin.respond(first)),
            ['SCARD_W_WRONG_CHV', 'SCARD_W_SECURITY_VIOLATION'],
            'docs/spec/minidriver.md §6.6/§11 a response to an old challenge must fail',
          );
          const fresh = await must(rig.session.getChallenge(), 'docs/spec/minidriver.md §5.2.2 CardGetChallenge');
          await must(
            rig.session.authenticateChallenge(admin.respond(fresh)),
            'docs/spec/minidriver.md §5.2.3 CardAuthenticateChallenge with the right response',
          );
          await mustFail(
            rig.session.authenticateChallenge(admin.respond(fresh)),
            ['SCARD_W_WRONG_CHV', 'SCARD_W_SECURITY_VIOLATION'],
            'docs/spec/minidriver.md §6.6 "a second use [of a response] must fail"',
          );
        }));
    } else if (admin?.kind === 'pin') {
      it('the admin PIN authenticates (docs/spec/minidriver.md §5.2.1)', () =>
        withFreshCard(options, async (rig) => {
          await must(
            rig.session.authenticatePin('admin', new Uint8Array(admin.pin)),
            'docs/spec/minidriver.md §5.2.1 CardAuthenticatePin("admin")',
          );
        }));
    } else {
      it('the card declares no admin: CardGetChallenge is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.2.2)', () =>
        withFreshCard(options, async (rig) => {
          await mustFail(
            rig.session.getChallenge(),
            'SCARD_E_UNSUPPORTED_FEATURE',
            'docs/spec/minidriver.md §5.2.2 CardGetChallenge on a card without admin key',
          );
        }));
    }
  });
}
