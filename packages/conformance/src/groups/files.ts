/**
 * Group 4 — the logical file system (docs/spec/minidriver.md §4, §5.3, §11 "Files"): the mandatory files and their
 * formats, file info against read lengths, cmapfile against the containers, and write / grow / delete
 * where the card allows them — else SCARD_E_UNSUPPORTED_FEATURE, and SCARD_W_SECURITY_VIOLATION without
 * authentication.
 */
import { CARD_CACHE_FILE_SIZE, CARD_ID_SIZE, decodeCardApps, decodeCardCacheFile } from '@minidriver/card-kit';
import type { CardSession } from '@minidriver/core';
import {
  CardProperty,
  CONTAINER_MAP_VALID_CONTAINER,
  FileAccessCondition,
  isEcdhKeySpec,
  KeySpec,
} from '@minidriver/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { certificateFileContents } from '../certificate.js';
import {
  authenticateForWrites,
  check,
  checkBytesEqual,
  closeRig,
  must,
  mustFail,
  patternBytes,
  type Rig,
} from '../harness.js';
import type { ConformanceOptions } from '../options.js';
import { type CreatedContainer, expectedRecordSizes, openProvisionedRig, readContainerMap } from '../provision.js';

/** The certificate file name of a container: ksc for signature keys, kxc for key-exchange keys (docs/spec/minidriver.md §4.3). */
export function certificateFileOf(options: ConformanceOptions, index: number): string {
  const plan = options.containers.find((container) => container.index === index);
  const signature =
    plan !== undefined && (plan.keySpec === KeySpec.AT_SIGNATURE || (plan.keySpec >= 3 && plan.keySpec <= 5));
  return `${signature && !isEcdhKeySpec(plan?.keySpec ?? 0) ? 'ksc' : 'kxc'}${index.toString(16).padStart(2, '0')}`;
}

/**
 * CardCreateFile of a certificate file before writing it (docs/spec/minidriver.md §10 step 16). Cards whose certificate files are
 * fixed objects may answer ERROR_FILE_EXISTS or SCARD_E_UNSUPPORTED_FEATURE; CardWriteFile must then work.
 */
export async function createCertificateFile(session: CardSession, name: string): Promise<void> {
  try {
    await session.createFile('mscp', name, 0, FileAccessCondition.EveryoneReadUserWriteAc);
  } catch (error) {
    await mustFail(
      Promise.reject(error),
      ['ERROR_FILE_EXISTS', 'SCARD_E_UNSUPPORTED_FEATURE'],
      `docs/spec/minidriver.md §10 step 16 CardCreateFile("mscp", "${name}") may only fail because the file is fixed`,
    );
  }
}

export function defineFileTests(options: ConformanceOptions): void {
  describe('logical file system (docs/spec/minidriver.md §4, §5.3)', () => {
    let rig: Rig;
    let created: Map<number, CreatedContainer>;

    beforeAll(async () => {
      ({ rig, created } = await openProvisionedRig(options));
    });
    afterAll(() => closeRig(rig));

    it('the root lists cardid, cardcf and cardapps; mscp lists cmapfile (docs/spec/minidriver.md §4.2, §11)', async () => {
      const root = await must(rig.session.enumFiles(null), 'docs/spec/minidriver.md §5.3.7 CardEnumFiles(root)');
      for (const name of ['cardid', 'cardcf', 'cardapps']) {
        check(
          root.includes(name),
          `docs/spec/minidriver.md §4.2/§11 CardEnumFiles(root) lists ${name}`,
          `it lists ${JSON.stringify(root)}`,
        );
      }
      const mscp = await must(rig.session.enumFiles('mscp'), 'docs/spec/minidriver.md §5.3.7 CardEnumFiles("mscp")');
      check(
        mscp.includes('cmapfile'),
        'docs/spec/minidriver.md §4.2/§11 CardEnumFiles("mscp") lists cmapfile',
        `it lists ${JSON.stringify(mscp)}`,
      );
    });

    it('cardid is 16 bytes equal to CP_CARD_GUID (docs/spec/minidriver.md §4.3, §11)', async () => {
      const cardid = await must(
        rig.session.readFile(null, 'cardid'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(cardid)',
      );
      check(
        cardid.length === CARD_ID_SIZE,
        'docs/spec/minidriver.md §4.3/§11 cardid is 16 bytes',
        `it has ${cardid.length}`,
      );
      if (rig.session.version >= 6) {
        const guid = await must(
          rig.session.getProperty(CardProperty.CP_CARD_GUID),
          'docs/spec/minidriver.md §7.1 CP_CARD_GUID',
        );
        checkBytesEqual(guid, cardid, 'docs/spec/minidriver.md §7.1/§11 CP_CARD_GUID equals the cardid file');
      }
    });

    it('cardcf holds at least the 6-byte CARD_CACHE_FILE_FORMAT (docs/spec/minidriver.md §3.8, §11)', async () => {
      const cardcf = await must(
        rig.session.readFile(null, 'cardcf'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(cardcf)',
      );
      check(
        cardcf.length >= CARD_CACHE_FILE_SIZE,
        'docs/spec/minidriver.md §3.8/§11 cardcf has at least 6 bytes',
        `it has ${cardcf.length}`,
      );
      decodeCardCacheFile(cardcf);
    });

    it('cardapps holds the "mscp" record (docs/spec/minidriver.md §4.3, §11)', async () => {
      const cardapps = await must(
        rig.session.readFile(null, 'cardapps'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(cardapps)',
      );
      check(
        cardapps.length % 8 === 0,
        'docs/spec/minidriver.md §4.3 cardapps is a list of 8-byte names',
        `it has ${cardapps.length} bytes`,
      );
      const names = decodeCardApps(cardapps);
      check(
        names.includes('mscp'),
        'docs/spec/minidriver.md §4.3/§11 cardapps contains mscp',
        `it contains ${JSON.stringify(names)}`,
      );
    });

    it('cmapfile records agree with CardGetContainerInfo (docs/spec/minidriver.md §3.7, §4.3)', async () => {
      const records = await readContainerMap(rig.session);
      for (const [index, record] of records.entries()) {
        if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) continue;
        const info = await must(
          rig.session.getContainerInfo(index),
          `docs/spec/minidriver.md §3.7 cmapfile lists container ${index} as valid, so CardGetContainerInfo(${index}) must succeed`,
        );
        const sizes = expectedRecordSizes(info);
        check(
          record.signatureKeySizeBits === sizes.signature && record.keyExchangeKeySizeBits === sizes.keyExchange,
          `docs/spec/minidriver.md §3.7/§11 cmapfile key sizes of container ${index} match its CONTAINER_INFO`,
          `record says signature ${record.signatureKeySizeBits} / key exchange ${record.keyExchangeKeySizeBits}, keys are ${sizes.signature} / ${sizes.keyExchange}`,
        );
      }
      for (const index of created.keys()) {
        const record = records[index];
        check(
          record !== undefined && (record.flags & CONTAINER_MAP_VALID_CONTAINER) !== 0,
          `docs/spec/minidriver.md §3.7 created container ${index} is a valid cmapfile record`,
        );
      }
    });

    it('CardGetFileInfo sizes equal CardReadFile lengths and access conditions are 1..6 (docs/spec/minidriver.md §5.3.8, §11)', async () => {
      for (const directory of [null, 'mscp'] as const) {
        const names = await must(
          rig.session.enumFiles(directory),
          `docs/spec/minidriver.md §5.3.7 CardEnumFiles(${directory ?? 'root'})`,
        );
        for (const name of names) {
          const path = `${directory ?? ''}/${name}`;
          const data = await must(
            rig.session.readFile(directory, name),
            `docs/spec/minidriver.md §5.3.4 CardReadFile(${path}), a listed file`,
          );
          const info = await must(
            rig.session.getFileInfo(directory, name),
            `docs/spec/minidriver.md §5.3.8 CardGetFileInfo(${path})`,
          );
          check(
            info.size === data.length,
            `docs/spec/minidriver.md §5.3.8/§11 CardGetFileInfo(${path}).cbFileSize equals the read length`,
            `${info.size} vs ${data.length}`,
          );
          check(
            info.accessCondition >= 1 && info.accessCondition <= 6,
            `docs/spec/minidriver.md §3.3/§11 CardGetFileInfo(${path}) access condition is 1..6`,
            `it is ${info.accessCondition}`,
          );
        }
      }
    });

    it('a missing file is SCARD_E_FILE_NOT_FOUND, a missing directory SCARD_E_DIR_NOT_FOUND (docs/spec/minidriver.md §5.3.4, §11)', async () => {
      await mustFail(
        rig.session.readFile('mscp', 'nofile'),
        'SCARD_E_FILE_NOT_FOUND',
        'docs/spec/minidriver.md §11 CardReadFile of a missing file',
      );
      await mustFail(
        rig.session.getFileInfo('mscp', 'nofile'),
        'SCARD_E_FILE_NOT_FOUND',
        'docs/spec/minidriver.md §11 CardGetFileInfo of a missing file',
      );
      await mustFail(
        rig.session.readFile('nodir', 'nofile'),
        'SCARD_E_DIR_NOT_FOUND',
        'docs/spec/minidriver.md §11 CardReadFile in a missing directory',
      );
      await mustFail(
        rig.session.enumFiles('nodir'),
        'SCARD_E_DIR_NOT_FOUND',
        'docs/spec/minidriver.md §11 CardEnumFiles of a missing directory',
      );
    });

    if (options.writableFiles) {
      it('create, write larger than created, read back, recreate, delete (docs/spec/minidriver.md §5.3.3-§5.3.6, §11 writable card)', async () => {
        await must(
          rig.session.createFile('mscp', 'conform', 16, FileAccessCondition.EveryoneReadUserWriteAc),
          'docs/spec/minidriver.md §5.3.3 CardCreateFile("mscp", "conform")',
        );
        await mustFail(
          rig.session.createFile('mscp', 'conform', 16, FileAccessCondition.EveryoneReadUserWriteAc),
          'ERROR_FILE_EXISTS',
          'docs/spec/minidriver.md §11 CardCreateFile of an existing file',
        );
        const contents = patternBytes(300, 7);
        await must(
          rig.session.writeFile('mscp', 'conform', contents),
          'docs/spec/minidriver.md §5.3.5 CardWriteFile growing the file past its initial size',
        );
        checkBytesEqual(
          await must(rig.session.readFile('mscp', 'conform'), 'docs/spec/minidriver.md §5.3.4 read back'),
          contents,
          'docs/spec/minidriver.md §11 a written file reads back equal',
        );
        const info = await must(
          rig.session.getFileInfo('mscp', 'conform'),
          'docs/spec/minidriver.md §5.3.8 CardGetFileInfo',
        );
        check(
          info.size === contents.length,
          'docs/spec/minidriver.md §5.3.8 the file size follows the write',
          `${info.size} vs ${contents.length}`,
        );
        const listed = await must(
          rig.session.enumFiles('mscp'),
          'docs/spec/minidriver.md §5.3.7 CardEnumFiles("mscp")',
        );
        check(listed.includes('conform'), 'docs/spec/minidriver.md §5.3.7 the created file is listed');
        await must(rig.session.deleteFile('mscp', 'conform'), 'docs/spec/minidriver.md §5.3.6 CardDeleteFile');
        await mustFail(
          rig.session.readFile('mscp', 'conform'),
          'SCARD_E_FILE_NOT_FOUND',
          'docs/spec/minidriver.md §5.3.6 a deleted file is gone',
        );
      });
    } else {
      it('the card declares no arbitrary files: CardCreateFile("mscp", "conform") is SCARD_E_UNSUPPORTED_FEATURE (docs/spec/minidriver.md §5.3.3)', async () => {
        await mustFail(
          rig.session.createFile('mscp', 'conform', 16, FileAccessCondition.EveryoneReadUserWriteAc),
          'SCARD_E_UNSUPPORTED_FEATURE',
          'docs/spec/minidriver.md §5.3.3 a card that cannot store arbitrary files, asked while authenticated',
        );
        await mustFail(
          rig.session.readFile('mscp', 'conform'),
          'SCARD_E_FILE_NOT_FOUND',
          'docs/spec/minidriver.md §5.3.3 a refused CardCreateFile leaves no file',
        );
      });
    }

    const certificateContainer = options.certificateContainer;
    if (certificateContainer !== undefined) {
      const subjectKey = () => (created.get(certificateContainer) as CreatedContainer).publicKey;
      it('a certificate file is created, written, grown, read back and deleted (docs/spec/minidriver.md §4.3, §10 step 16)', async () => {
        const name = certificateFileOf(options, certificateContainer);
        const compresses = (
          await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3 CardQueryCapabilities')
        ).certificateCompression;
        await createCertificateFile(rig.session, name);
        const small = await certificateFileContents(subjectKey(), 600, 1, compresses);
        await must(
          rig.session.writeFile('mscp', name, small),
          `docs/spec/minidriver.md §5.3.5 CardWriteFile("mscp", "${name}")`,
        );
        checkBytesEqual(
          await must(rig.session.readFile('mscp', name), 'docs/spec/minidriver.md §5.3.4 read back'),
          small,
          `docs/spec/minidriver.md §5.3.4 mscp/${name} reads back as written`,
        );
        const large = await certificateFileContents(subjectKey(), 1500, 2, compresses);
        await must(
          rig.session.writeFile('mscp', name, large),
          `docs/spec/minidriver.md §5.3.5 CardWriteFile("mscp", "${name}") growing it`,
        );
        checkBytesEqual(
          await must(rig.session.readFile('mscp', name), 'docs/spec/minidriver.md §5.3.4 read back'),
          large,
          `docs/spec/minidriver.md §5.3.5 mscp/${name} reads back after growing`,
        );
        const info = await must(
          rig.session.getFileInfo('mscp', name),
          'docs/spec/minidriver.md §5.3.8 CardGetFileInfo',
        );
        check(
          info.size === large.length,
          `docs/spec/minidriver.md §5.3.8 CardGetFileInfo(mscp/${name}) size follows the write`,
          `${info.size} vs ${large.length}`,
        );
        const listed = await must(
          rig.session.enumFiles('mscp'),
          'docs/spec/minidriver.md §5.3.7 CardEnumFiles("mscp")',
        );
        check(
          listed.includes(name),
          `docs/spec/minidriver.md §5.3.7 CardEnumFiles("mscp") lists ${name}`,
          `it lists ${JSON.stringify(listed)}`,
        );
        await must(
          rig.session.deleteFile('mscp', name),
          `docs/spec/minidriver.md §5.3.6 CardDeleteFile("mscp", "${name}")`,
        );
        await mustFail(
          rig.session.readFile('mscp', name),
          'SCARD_E_FILE_NOT_FOUND',
          `docs/spec/minidriver.md §5.3.6 mscp/${name} is gone after CardDeleteFile`,
        );
      });

      it('after deauthentication, writing a certificate is SCARD_W_SECURITY_VIOLATION (docs/spec/minidriver.md §4.5, §5.2.10, §11)', async () => {
        const name = certificateFileOf(options, certificateContainer);
        const compresses = (
          await must(rig.session.queryCapabilities(), 'docs/spec/minidriver.md §5.1.3 CardQueryCapabilities')
        ).certificateCompression;
        const original = await certificateFileContents(subjectKey(), 400, 4, compresses);
        const unauthorised = await certificateFileContents(subjectKey(), 100, 5, compresses);
        await createCertificateFile(rig.session, name);
        await must(
          rig.session.writeFile('mscp', name, original),
          `docs/spec/minidriver.md §5.3.5 CardWriteFile("mscp", "${name}")`,
        );
        if (rig.session.version >= 6)
          await must(rig.session.deauthenticateEx(0xff), 'docs/spec/minidriver.md §5.2.10 CardDeauthenticateEx(all)');
        else
          await must(rig.session.deauthenticate('user'), 'docs/spec/minidriver.md §5.2.6 CardDeauthenticate("user")');
        try {
          await mustFail(
            rig.session.writeFile('mscp', name, unauthorised),
            'SCARD_W_SECURITY_VIOLATION',
            `docs/spec/minidriver.md §4.5/§11 CardWriteFile("mscp", "${name}") with nobody authenticated`,
          );
          checkBytesEqual(
            await must(rig.session.readFile('mscp', name), 'docs/spec/minidriver.md §5.3.4 read back'),
            original,
            'docs/spec/minidriver.md §4.5 a refused write leaves the file as it was',
          );
        } finally {
          await authenticateForWrites(options, rig.session);
        }
      });
    }

    it('CP_CARD_READ_ONLY agrees with what the card lets a caller write (docs/spec/minidriver.md §4.7)', async () => {
      if (rig.session.version < 6) return;
      const readOnly = await must(
        rig.session.getProperty(CardProperty.CP_CARD_READ_ONLY),
        'docs/spec/minidriver.md §7.1 CP_CARD_READ_ONLY',
      );
      if (!readOnly) return;
      check(
        !options.writableFiles && options.certificateContainer === undefined,
        'docs/spec/minidriver.md §4.7 a read-only card declares no writable files or certificates',
      );
      const free = await must(rig.session.queryFreeSpace(), 'docs/spec/minidriver.md §5.3.9 CardQueryFreeSpace');
      check(
        free.bytesAvailable === 0 && free.keyContainersAvailable === 0,
        'docs/spec/minidriver.md §11 a read-only card reports free space 0/0',
      );
    });
  });
}
