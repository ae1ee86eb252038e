/**
 * Group 7 — the data cache (docs/spec/minidriver.md §4.8, §10 step 4): as the card's CP_CARD_CACHE_MODE says, a second
 * read is a cache hit that costs no APDU beyond the cardcf check (GLOBAL, SESSION_ONLY) or nothing is
 * cached (NO_CACHE); in GLOBAL mode another session's write invalidates through the cardcf counters.
 */

import { decodeCardCacheFile } from '@minidriver/card-kit';
import { CacheMode, CardProperty } from '@minidriver/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { certificateFileContents } from '../certificate.js';
import {
  authenticateForWrites,
  check,
  checkBytesEqual,
  closeRig,
  countApdus,
  must,
  mustFail,
  openSecondSession,
  type Rig,
} from '../harness.js';
import type { ConformanceOptions } from '../options.js';
import { type CreatedContainer, deleteContainerIfSupported, openProvisionedRig } from '../provision.js';
import { certificateFileOf, createCertificateFile } from './files.js';

export function defineCacheTests(options: ConformanceOptions): void {
  describe('data cache and cardcf freshness (docs/spec/minidriver.md §4.8)', () => {
    let rig: Rig;
    let declaredMode: number;
    let cardcfReadCost = 0;
    let created: Map<number, CreatedContainer>;

    beforeAll(async () => {
      ({ rig, created } = await openProvisionedRig(options));
      declaredMode =
        rig.session.version >= 6
          ? await must(
              rig.session.getProperty(CardProperty.CP_CARD_CACHE_MODE),
              'docs/spec/minidriver.md §7.1 CP_CARD_CACHE_MODE',
            )
          : CacheMode.GLOBAL_CACHE;
      cardcfReadCost = (await countApdus(rig, () => rig.session.readFile(null, 'cardcf'))).apdus;
    });
    afterAll(() => closeRig(rig));

    it('CP_CARD_CACHE_MODE is 1..3 and the session runs in it (docs/spec/minidriver.md §4.8, §7.1)', () => {
      check(
        declaredMode >= 1 && declaredMode <= 3,
        'docs/spec/minidriver.md §7.1 CP_CARD_CACHE_MODE is GLOBAL (1), SESSION_ONLY (2) or NO_CACHE (3)',
        `it is ${declaredMode}`,
      );
      check(
        rig.session.cacheMode === declaredMode,
        'docs/spec/minidriver.md §4.8 a card with cardid and cardcf is cached in its declared mode',
        `declared ${declaredMode}, session runs ${rig.session.cacheMode}`,
      );
    });

    it('a second read of mscp/cmapfile is answered as the cache mode says (docs/spec/minidriver.md §4.8)', async () => {
      const first = await must(
        rig.session.readFile('mscp', 'cmapfile'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(mscp/cmapfile)',
      );
      const before = rig.session.stats();
      const second = await countApdus(rig, () => rig.session.readFile('mscp', 'cmapfile'));
      const after = rig.session.stats();
      check(!second.failed, 'docs/spec/minidriver.md §5.3.4 the second read succeeds');
      if (declaredMode === CacheMode.NO_CACHE) {
        check(
          after.cacheHits === before.cacheHits,
          'docs/spec/minidriver.md §4.8 in NO_CACHE mode nothing is answered from the cache',
          `${after.cacheHits - before.cacheHits} hits`,
        );
        check(second.apdus > 0, 'docs/spec/minidriver.md §4.8 in NO_CACHE mode every read goes to the card');
        return;
      }
      check(
        after.cacheHits === before.cacheHits + 1 && after.cacheMisses === before.cacheMisses,
        'docs/spec/minidriver.md §4.8 the second read of an unchanged file is a cache hit',
        `hits +${after.cacheHits - before.cacheHits}, misses +${after.cacheMisses - before.cacheMisses}`,
      );
      check(
        second.apdus <= cardcfReadCost,
        'docs/spec/minidriver.md §4.8 a cache hit costs no APDU beyond the cardcf check',
        `${second.apdus} APDUs; the cardcf read costs ${cardcfReadCost}`,
      );
      checkBytesEqual(
        await must(rig.session.readFile('mscp', 'cmapfile'), 'read'),
        first,
        "docs/spec/minidriver.md §4.8 cached data equals the card's",
      );
    });

    const certificateContainer = options.certificateContainer;
    if (certificateContainer !== undefined) {
      it("another session's write is seen at once: the cardcf files counter changes and the cached copy is dropped (docs/spec/minidriver.md §4.8)", async () => {
        // SESSION_ONLY caches are private to a session and not validated by cardcf (docs/spec/minidriver.md §4.8): nothing to check.
        if (declaredMode === CacheMode.SESSION_ONLY) return;
        const name = certificateFileOf(options, certificateContainer);
        const subjectKey = (created.get(certificateContainer) as CreatedContainer).publicKey;
        const compresses = (await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3'))
          .certificateCompression;
        const first = await certificateFileContents(subjectKey, 500, 11, compresses);
        await createCertificateFile(rig.session, name);
        await must(
          rig.session.writeFile('mscp', name, first),
          `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name})`,
        );
        checkBytesEqual(
          await must(rig.session.readFile('mscp', name), 'read'),
          first,
          'docs/spec/minidriver.md §5.3.4 read back',
        );
        await must(rig.session.readFile('mscp', name), 'read (cache fill)');
        const cardcfBefore = decodeCardCacheFile(await must(rig.session.readFile(null, 'cardcf'), 'cardcf'));

        const other = await openSecondSession(options, rig);
        const second = await certificateFileContents(subjectKey, 700, 12, compresses);
        try {
          await authenticateForWrites(options, other.session);
          await must(
            other.session.writeFile('mscp', name, second),
            `docs/spec/minidriver.md §5.3.5 CardWriteFile(mscp/${name}) from a second session`,
          );
        } finally {
          await closeRig(other);
        }
        const misses = rig.session.stats().cacheMisses;
        const seen = await must(
          rig.session.readFile('mscp', name),
          `docs/spec/minidriver.md §5.3.4 CardReadFile(mscp/${name}) after another session's write`,
        );
        checkBytesEqual(
          seen,
          second,
          "docs/spec/minidriver.md §4.8 after another session's write the first session reads the new contents, not a stale copy",
        );
        const cardcfAfter = decodeCardCacheFile(await must(rig.session.readFile(null, 'cardcf'), 'cardcf'));
        if (declaredMode !== CacheMode.NO_CACHE) {
          check(
            cardcfAfter.filesFreshness !== cardcfBefore.filesFreshness,
            'docs/spec/minidriver.md §4.8 a file write bumps wFilesFreshness in cardcf',
            `${cardcfBefore.filesFreshness} before and after`,
          );
          check(
            rig.session.stats().cacheMisses === misses + 1,
            'docs/spec/minidriver.md §4.8 the stale copy was dropped: the read after the write is a cache miss',
          );
        }
      });
    }

    it("another session's container deletion is seen at once (docs/spec/minidriver.md §4.8 wContainersFreshness)", async () => {
      if (declaredMode === CacheMode.SESSION_ONLY) return;
      const plan = options.containers[options.containers.length - 1] as (typeof options.containers)[number];
      await must(
        rig.session.getContainerInfo(plan.index),
        `docs/spec/minidriver.md §5.4.4 CardGetContainerInfo(${plan.index})`,
      );
      await must(
        rig.session.getContainerInfo(plan.index),
        `docs/spec/minidriver.md §5.4.4 CardGetContainerInfo(${plan.index}) (cached)`,
      );
      const other = await openSecondSession(options, rig);
      try {
        await authenticateForWrites(options, other.session);
        if (!(await deleteContainerIfSupported(other.session, plan.index))) return;
      } finally {
        await closeRig(other);
      }
      await mustFail(
        rig.session.getContainerInfo(plan.index),
        'SCARD_E_NO_KEY_CONTAINER',
        `docs/spec/minidriver.md §4.8 after another session deleted container ${plan.index}, CardGetContainerInfo must not answer from a stale cache`,
      );
    });
  });
}
