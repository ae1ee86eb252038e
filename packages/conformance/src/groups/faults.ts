/**
 * Group 9 — faults around everything that changes a card (docs/spec/minidriver.md §5, §4.8): the card removed before an
 * APDU reaches it, removed after it ran, or losing power after it ran, at every APDU position of a user
 * PIN change, an admin secret change, a PUK change, a certificate delete and a key generation that changes
 * the container's algorithm. After each fault the call has failed with a card code, the secret is the old or
 * the new one, and the card is consistent: cmapfile agrees with the containers and every certificate
 * certifies the key its container holds.
 */

import { publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import {
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_CREATE_CONTAINER_KEY_GEN,
  CardProperty,
  PIN_CHANGE_FLAG_CHANGEPIN,
  ROLE_ADMIN,
  ROLE_USER,
  type ScardCodeName,
  ScardError,
} from '@minidriver/spec';
import { describe, it } from 'vitest';
import { certificateFileContents } from '../certificate.js';
import { checkCardConsistent } from '../consistency.js';
import {
  authenticateForWrites,
  ConformanceFailure,
  closeRig,
  countApdus,
  describeError,
  must,
  openRig,
  type Rig,
  settle,
  userPinOf,
} from '../harness.js';
import type { ConformanceOptions, ContainerPlan } from '../options.js';
import { blobOf, keySpecName, openProvisionedRig } from '../provision.js';
import { certificateFileOf, createCertificateFile } from './files.js';

/** Where the fault strikes relative to APDU n. */
export type FaultKind = 'removal before' | 'removal after' | 'power loss after';

const FAULT_KINDS: readonly FaultKind[] = ['removal before', 'removal after', 'power loss after'];
/** Most APDU positions tried per operation and fault kind. */
const MAX_POSITIONS = 24;
const CARD_GONE: readonly ScardCodeName[] = ['SCARD_W_REMOVED_CARD'];
const POWER_LOST: readonly ScardCodeName[] = [
  'SCARD_W_RESET_CARD',
  'SCARD_W_UNPOWERED_CARD',
  'SCARD_W_REMOVED_CARD',
  'SCARD_W_UNRESPONSIVE_CARD',
];

/**
 * Runs `action` with a fault at APDU `position`. Returns false when the operation ended before that APDU
 * (nothing happened: it must have succeeded). When the fault fired the call must have failed with the
 * card code of the fault; the card is then put back and a new session opened (not authenticated).
 */
async function withFault(
  options: ConformanceOptions,
  rig: Rig,
  kind: FaultKind,
  position: number,
  action: () => Promise<unknown>,
  what: string,
): Promise<{ fired: boolean; rig: Rig }> {
  rig.transport.faults.setPlan(
    kind === 'removal before'
      ? { removeBeforeApdu: position }
      : kind === 'removal after'
        ? { removeAfterApdu: position }
        : { unpowerAfterApdu: position },
  );
  const { failed, error: failure } = await settle(action);
  const fired = rig.transport.faults.apduCount >= position;
  rig.transport.faults.clear();
  if (!fired) {
    if (failed) throw new ConformanceFailure(`${what}: failed without a fault: ${describeError(failure)}`);
    return { fired, rig };
  }
  if (!failed)
    throw new ConformanceFailure(`docs/spec/minidriver.md §5 ${what}: the fault struck, yet the call reported success`);
  const codes = kind === 'power loss after' ? POWER_LOST : CARD_GONE;
  if (!codes.some((code) => ScardError.hasCode(failure, code))) {
    throw new ConformanceFailure(
      `docs/spec/minidriver.md §5 ${what}: expected ${codes.join(' or ')}, got ${describeError(failure)}`,
    );
  }
  if (!rig.transport.cardPresent) await rig.transport.reinsert();
  await closeRig(rig);
  return { fired, rig: await openRig(options, rig.card) };
}

/** Runs `operation` under every fault kind at every APDU position it takes. */
async function atEveryPosition(
  options: ConformanceOptions,
  start: Rig,
  name: string,
  operation: (rig: Rig) => Promise<unknown>,
  afterwards: (rig: Rig, what: string, fired: boolean) => Promise<void>,
  before: (rig: Rig) => Promise<void> = async () => undefined,
  mayBeUnsupported = false,
): Promise<Rig> {
  let rig = start;
  await before(rig);
  const measured = await countApdus(rig, () => operation(rig));
  // A card that cannot do this at all says so (docs/spec/minidriver.md §1.5); there is then nothing to interrupt.
  if (measured.failed && mayBeUnsupported && ScardError.hasCode(measured.error, 'SCARD_E_UNSUPPORTED_FEATURE')) {
    return rig;
  }
  if (measured.failed) throw new ConformanceFailure(`${name} without faults: ${describeError(measured.error)}`);
  await afterwards(rig, `${name} without faults`, false);
  const positions = Math.min(measured.apdus, MAX_POSITIONS);
  for (const kind of FAULT_KINDS) {
    for (let position = 1; position <= positions; position++) {
      await before(rig);
      const what = `${name}, ${kind} APDU ${position} of ${measured.apdus}`;
      const current = rig;
      const outcome = await withFault(options, rig, kind, position, () => operation(current), what);
      rig = outcome.rig;
      await afterwards(rig, what, outcome.fired);
    }
  }
  return rig;
}

/** Tries `first`, then `second` (after SCARD_W_WRONG_CHV); returns which one the card took. */
async function oneOf(
  attempt: (secret: Uint8Array) => Promise<unknown>,
  first: Uint8Array,
  second: Uint8Array,
  rule: string,
): Promise<Uint8Array> {
  try {
    await attempt(new Uint8Array(first));
    return first;
  } catch (error) {
    if (!ScardError.hasCode(error, 'SCARD_W_WRONG_CHV'))
      throw new ConformanceFailure(`${rule}: ${describeError(error)}`);
  }
  await must(
    attempt(new Uint8Array(second)),
    `docs/spec/minidriver.md §4.8 ${rule}: the card must hold the old or the new secret`,
  );
  return second;
}

/** A PIN of the same form as `pin` (digits stay digits) that differs from it. */
function otherPin(pin: Uint8Array, round: number): Uint8Array {
  return pin.map((byte, index) => (index === 0 ? 0x30 + ((byte - 0x30 + 1 + round) % 10) : byte));
}

export function defineFaultTests(options: ConformanceOptions): void {
  const timeout = (options.timeoutMs ?? 60_000) * 4;
  const admin = options.credentials.admin;
  const unblock = options.credentials.unblock;
  const certificateContainer = options.certificateContainer;
  const change = options.algorithmChange;

  describe('removal before an APDU, removal after it and power loss (docs/spec/minidriver.md §5, §4.8)', () => {
    it(
      'user PIN change: the old or the new PIN afterwards, and a consistent card',
      async () => {
        let { rig } = await openProvisionedRig(options);
        let pin = userPinOf(options);
        let round = 0;
        try {
          let next = otherPin(pin, round);
          rig = await atEveryPosition(
            options,
            rig,
            'CardChangeAuthenticatorEx(ROLE_USER)',
            (current) =>
              current.session.changeAuthenticatorEx(
                PIN_CHANGE_FLAG_CHANGEPIN,
                ROLE_USER,
                new Uint8Array(pin),
                ROLE_USER,
                new Uint8Array(next),
                0,
              ),
            async (current, what) => {
              pin = await oneOf((secret) => current.session.authenticatePin('user', secret), next, pin, what);
              next = otherPin(pin, ++round);
              await checkCardConsistent(current, what);
            },
          );
        } finally {
          await closeRig(rig);
        }
      },
      timeout,
    );

    // Tests that do not apply to a card are not defined at all (a skipped test would count as skipped in CI).
    const itIf = (condition: boolean) => (condition ? it : ((() => undefined) as unknown as typeof it));

    itIf(admin !== undefined && (admin.kind === 'pin' || admin.keyChange !== undefined))(
      'admin secret change (admin PIN or management key): the old or the new one afterwards, and a consistent card',
      async () => {
        if (admin === undefined) return;
        let { rig } = await openProvisionedRig(options);
        try {
          if (admin.kind === 'pin') {
            let pin: Uint8Array = new Uint8Array(admin.pin);
            let round = 0;
            let next = otherPin(pin, round);
            rig = await atEveryPosition(
              options,
              rig,
              'CardChangeAuthenticatorEx(ROLE_ADMIN)',
              (current) =>
                current.session.changeAuthenticatorEx(
                  PIN_CHANGE_FLAG_CHANGEPIN,
                  ROLE_ADMIN,
                  new Uint8Array(pin),
                  ROLE_ADMIN,
                  new Uint8Array(next),
                  0,
                ),
              async (current, what) => {
                pin = await oneOf((secret) => current.session.authenticatePin('admin', secret), next, pin, what);
                next = otherPin(pin, ++round);
                await checkCardConsistent(current, what);
              },
            );
            return;
          }
          const keyChange = admin.keyChange as NonNullable<typeof admin.keyChange>;
          let key: Uint8Array = new Uint8Array(keyChange.key);
          let round = 0;
          const nextKey = () => key.map((byte, index) => (index === 0 ? (byte + 1 + round) & 0xff : byte));
          let next = nextKey();
          const authenticate = async (session: Rig['session'], candidate: Uint8Array) => {
            const challenge = await session.getChallengeEx(ROLE_ADMIN);
            await session.authenticateEx(ROLE_ADMIN, 0, keyChange.respondWith(candidate, challenge));
          };
          rig = await atEveryPosition(
            options,
            rig,
            'CardChangeAuthenticatorEx(ROLE_ADMIN) of the admin key',
            async (current) => {
              const challenge = await current.session.getChallengeEx(ROLE_ADMIN);
              await current.session.changeAuthenticatorEx(
                PIN_CHANGE_FLAG_CHANGEPIN,
                ROLE_ADMIN,
                keyChange.respondWith(key, challenge),
                ROLE_ADMIN,
                new Uint8Array(next),
                0,
              );
            },
            async (current, what) => {
              key = await oneOf((candidate) => authenticate(current.session, candidate), next, key, what);
              round++;
              next = nextKey();
              await checkCardConsistent(current, what);
            },
          );
        } finally {
          await closeRig(rig);
        }
      },
      timeout,
    );

    itIf(unblock?.kind === 'puk')(
      'PUK change: the old or the new PUK afterwards, and a consistent card',
      async () => {
        if (unblock?.kind !== 'puk') return;
        let rig = await openRig(options);
        try {
          await authenticateForWrites(options, rig.session);
          const info = await must(
            rig.session.getProperty(CardProperty.CP_CARD_PIN_INFO, ROLE_USER),
            'docs/spec/minidriver.md §6.4 PIN_INFO of ROLE_USER',
          );
          let pukId = -1;
          for (let id = 7; id >= 0; id--) if (info.unblockPermission & (1 << id)) pukId = id;
          if (pukId < 0)
            throw new ConformanceFailure(
              'docs/spec/minidriver.md §6.4 the user PIN declares a PUK but no PIN may unblock it',
            );
          let puk: Uint8Array = new Uint8Array(unblock.puk);
          let round = 0;
          let next = otherPin(puk, round);
          const userPin = userPinOf(options);
          rig = await atEveryPosition(
            options,
            rig,
            `CardChangeAuthenticatorEx(PIN ${pukId}) of the PUK`,
            (current) =>
              current.session.changeAuthenticatorEx(
                PIN_CHANGE_FLAG_CHANGEPIN,
                pukId as never,
                new Uint8Array(puk),
                pukId as never,
                new Uint8Array(next),
                0,
              ),
            async (current, what) => {
              puk = await oneOf(
                (secret) =>
                  current.session.unblockPin('user', secret, new Uint8Array(userPin), 0, CARD_AUTHENTICATE_PIN_PIN),
                next,
                puk,
                what,
              );
              next = otherPin(puk, ++round);
              await checkCardConsistent(current, what);
            },
            undefined,
            true,
          );
        } finally {
          await closeRig(rig);
        }
      },
      timeout,
    );

    itIf(certificateContainer !== undefined)(
      'certificate delete: the file is whole or gone afterwards, and a consistent card',
      async () => {
        const index = certificateContainer as number;
        const name = certificateFileOf(options, index);
        let { rig, created } = await openProvisionedRig(options);
        try {
          const key = created.get(index)?.publicKey;
          if (key === undefined) throw new ConformanceFailure(`container ${index} was not created`);
          const compresses = (await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3'))
            .certificateCompression;
          const contents = await certificateFileContents(key, 700, 31, compresses);
          let written: Uint8Array = new Uint8Array(0) as Uint8Array;
          rig = await atEveryPosition(
            options,
            rig,
            `CardDeleteFile(mscp/${name})`,
            (current) => current.session.deleteFile('mscp', name),
            async (current, what) => {
              try {
                const seen = await current.session.readFile('mscp', name);
                if (seen.length > 0 && Buffer.compare(Buffer.from(seen), Buffer.from(written)) !== 0) {
                  throw new ConformanceFailure(
                    `docs/spec/minidriver.md §4.8 ${what}: the certificate must be the written one or gone`,
                  );
                }
              } catch (error) {
                if (error instanceof ConformanceFailure) throw error;
                if (!ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND')) {
                  throw new ConformanceFailure(
                    `docs/spec/minidriver.md §5.3.4 ${what}: reading the file back: ${describeError(error)}`,
                  );
                }
              }
              await checkCardConsistent(current, what);
            },
            async (current) => {
              await authenticateForWrites(options, current.session);
              await createCertificateFile(current.session, name);
              await must(
                current.session.writeFile('mscp', name, contents),
                `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name})`,
              );
              written = await must(
                current.session.readFile('mscp', name),
                `docs/spec/minidriver.md §5.3.4 CardReadFile(mscp/${name})`,
              );
            },
          );
        } finally {
          await closeRig(rig);
        }
      },
      timeout,
    );

    itIf(change !== undefined)(
      'key generation that changes the algorithm: no certificate left for a key the container no longer holds',
      async () => {
        const target = change as NonNullable<typeof change>;
        const plan = options.containers.find((container) => container.index === target.index) as ContainerPlan;
        const algorithms = [plan, { ...plan, keySpec: target.keySpec, keySize: target.keySize }];
        let { rig } = await openProvisionedRig(options);
        try {
          let turn = 1;
          const other = () => algorithms[turn % 2] as ContainerPlan;
          rig = await atEveryPosition(
            options,
            rig,
            `CardCreateContainer(KEY_GEN) of container ${plan.index} changing its algorithm`,
            (current) =>
              current.session.createContainer(
                plan.index,
                CARD_CREATE_CONTAINER_KEY_GEN,
                other().keySpec,
                other().keySize,
              ),
            async (current, what) => {
              turn++;
              await checkCardConsistent(current, what);
            },
            async (current) => {
              // Before each attempt: the container holds a key of one algorithm, with its certificate.
              await authenticateForWrites(options, current.session);
              const held = algorithms[(turn + 1) % 2] as ContainerPlan;
              let info: Awaited<ReturnType<typeof current.session.getContainerInfo>> | undefined;
              try {
                info = await current.session.getContainerInfo(plan.index);
              } catch {
                info = undefined;
              }
              if (info === undefined || blobOf(info, held.keySpec) === undefined) {
                await must(
                  current.session.createContainer(
                    plan.index,
                    CARD_CREATE_CONTAINER_KEY_GEN,
                    held.keySpec,
                    held.keySize,
                  ),
                  `docs/spec/minidriver.md §5.4.1 regenerating container ${plan.index} as ${keySpecName(held.keySpec)}`,
                );
                info = await must(current.session.getContainerInfo(plan.index), 'docs/spec/minidriver.md §5.4.4');
              }
              const name = certificateFileOf({ ...options, containers: [held] }, plan.index);
              const key = publicKeyBlobToKeyObject(blobOf(info, held.keySpec) as Uint8Array);
              const compresses = (await must(current.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3'))
                .certificateCompression;
              await createCertificateFile(current.session, name);
              await must(
                current.session.writeFile('mscp', name, await certificateFileContents(key, 600, turn, compresses)),
                `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name})`,
              );
            },
          );
        } finally {
          await closeRig(rig);
        }
      },
      timeout,
    );
  });
}
