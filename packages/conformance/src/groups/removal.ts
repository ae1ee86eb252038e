/**
 * Group 8 — the card pulled out mid-operation (docs/spec/minidriver.md §5 "card/transport codes", docs/spec/minidriver.md §4.8): after the Nth
 * APDU of a certificate write or a key generation, for every N the operation takes, the call fails with
 * SCARD_W_REMOVED_CARD, and after reinsertion the logical file system is whole: the file holds the old
 * or the new contents (never a mix), cmapfile agrees with the containers and every certificate certifies
 * its container's key. Removal before an APDU and power loss are in faults.ts.
 */
import { CARD_CREATE_CONTAINER_KEY_GEN, ScardError } from '@minidriver/spec';
import { describe, it } from 'vitest';
import { certificateFileContents } from '../certificate.js';
import { checkCardConsistent } from '../consistency.js';
import {
  authenticateForWrites,
  ConformanceFailure,
  check,
  closeRig,
  countApdus,
  describeError,
  must,
  openRig,
  type Rig,
  settle,
} from '../harness.js';
import type { ConformanceOptions, ContainerPlan } from '../options.js';
import { type CreatedContainer, keySpecName, openProvisionedRig } from '../provision.js';
import { certificateFileOf, createCertificateFile } from './files.js';

/** Most APDU positions tried per operation (keeps the run short for chatty cards). */
const MAX_POSITIONS = 48;

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

/** Runs `action` with the card removed after APDU `position`; requires SCARD_W_REMOVED_CARD if it fired. */
async function runWithRemoval(
  rig: Rig,
  position: number,
  action: () => Promise<unknown>,
  what: string,
): Promise<boolean> {
  rig.transport.faults.setPlan({ removeAfterApdu: position });
  const { failed, error: failure } = await settle(action);
  rig.transport.faults.clear();
  const removed = !rig.transport.cardPresent;
  if (!removed) {
    if (failed) throw new ConformanceFailure(`${what}: failed without a removal: ${describeError(failure)}`);
    return false;
  }
  if (!failed) {
    throw new ConformanceFailure(
      `docs/spec/minidriver.md §5 ${what}: the card was removed after APDU ${position}, yet the call reported success`,
    );
  }
  if (!ScardError.hasCode(failure, 'SCARD_W_REMOVED_CARD')) {
    throw new ConformanceFailure(
      `docs/spec/minidriver.md §5 ${what}, card removed after APDU ${position}: expected SCARD_W_REMOVED_CARD, got ${describeError(failure)}`,
    );
  }
  return true;
}

/** Reinserts the card and opens a new, authenticated session on it (the old one is closed). */
async function reinsert(options: ConformanceOptions, rig: Rig): Promise<Rig> {
  await rig.transport.reinsert();
  await closeRig(rig);
  const next = await openRig(options, rig.card);
  await authenticateForWrites(options, next.session);
  return next;
}

export function defineRemovalTests(options: ConformanceOptions): void {
  const certificateContainer = options.certificateContainer;
  const generated = options.containers.find((plan) => plan.generate);

  describe('card removal mid-operation (docs/spec/minidriver.md §5, §4.8)', () => {
    it.skipIf(certificateContainer === undefined)(
      'removed after each APDU of a certificate write: SCARD_W_REMOVED_CARD, then the old or the new contents',
      async () => {
        const index = certificateContainer as number;
        const name = certificateFileOf(options, index);
        let { rig, created } = await openProvisionedRig(options);
        try {
          const subjectKey = (created.get(index) as CreatedContainer).publicKey;
          const compresses = (await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3'))
            .certificateCompression;
          await createCertificateFile(rig.session, name);
          let current = await certificateFileContents(subjectKey, 800, 100, compresses);
          await must(
            rig.session.writeFile('mscp', name, current),
            `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name})`,
          );
          const replacement = await certificateFileContents(subjectKey, 900, 101, compresses);
          const measured = await countApdus(rig, () => rig.session.writeFile('mscp', name, replacement));
          check(
            !measured.failed,
            `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name}) without faults`,
            describeError(measured.error),
          );
          current = await must(rig.session.readFile('mscp', name), 'read');
          const positions = Math.min(measured.apdus, MAX_POSITIONS);
          for (let position = 1; position <= positions; position++) {
            const next = await certificateFileContents(subjectKey, 800 + position * 7, 200 + position, compresses);
            const what = `CardWriteFile(mscp/${name}) interrupted after APDU ${position} of ${measured.apdus}`;
            const removed = await runWithRemoval(rig, position, () => rig.session.writeFile('mscp', name, next), what);
            if (removed) rig = await reinsert(options, rig);
            const seen = await must(
              rig.session.readFile('mscp', name),
              `docs/spec/minidriver.md §5.3.4 ${what}: reading the file back after reinsertion`,
            );
            check(
              equalBytes(seen, current) || equalBytes(seen, next),
              `docs/spec/minidriver.md §4.8 ${what}: the file must hold the old or the new contents, never a mix`,
              `it holds ${seen.length} bytes; old ${current.length}, new ${next.length}`,
            );
            await checkCardConsistent(rig, what);
            current = seen;
          }
        } finally {
          await closeRig(rig);
        }
      },
    );

    it.skipIf(generated === undefined)(
      'removed after each APDU of a key generation: SCARD_W_REMOVED_CARD, then cmapfile agrees with the containers',
      async () => {
        const plan = generated as ContainerPlan;
        const what = (position: number, total: number) =>
          `CardCreateContainer(KEY_GEN) of container ${plan.index} (${keySpecName(plan.keySpec)}) interrupted after APDU ${position} of ${total}`;
        let { rig } = await openProvisionedRig(options);
        try {
          const measured = await countApdus(rig, () =>
            rig.session.createContainer(plan.index, CARD_CREATE_CONTAINER_KEY_GEN, plan.keySpec, plan.keySize),
          );
          check(
            !measured.failed,
            `docs/spec/minidriver.md §5.4.1 regenerating container ${plan.index} without faults`,
            describeError(measured.error),
          );
          const positions = Math.min(measured.apdus, MAX_POSITIONS);
          for (let position = 1; position <= positions; position++) {
            const removed = await runWithRemoval(
              rig,
              position,
              () => rig.session.createContainer(plan.index, CARD_CREATE_CONTAINER_KEY_GEN, plan.keySpec, plan.keySize),
              what(position, measured.apdus),
            );
            if (removed) rig = await reinsert(options, rig);
            await checkCardConsistent(rig, what(position, measured.apdus));
            try {
              await rig.session.getContainerInfo(plan.index);
            } catch (error) {
              if (!ScardError.hasCode(error, 'SCARD_E_NO_KEY_CONTAINER')) {
                throw new ConformanceFailure(
                  `docs/spec/minidriver.md §5.4.4 ${what(position, measured.apdus)}: CardGetContainerInfo must give the old key, the new key or SCARD_E_NO_KEY_CONTAINER, got ${describeError(error)}`,
                );
              }
            }
          }
        } finally {
          await closeRig(rig);
        }
      },
    );
  });
}
