import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  FileAccessCondition,
  fromHex,
  ScardError,
} from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { encodeCardApps } from '../codecs/cardapps.js';
import { encodeCardCacheFile } from '../codecs/cardcf.js';
import { compressCertificate } from '../codecs/certificate-file.js';
import { decodeContainerMap, encodeContainerMap } from '../codecs/cmapfile.js';
import type { CertificateFileKind } from '../codecs/file-names.js';
import { STANDARD_FILE_ACCESS } from './access-table.js';
import type { CertificateFileRef, CertificateFileStore } from './certificate-files.js';
import type { ContainerKeySummary } from './container-map.js';
import { VirtualFileSystem } from './virtual-file-system.js';

const CARD_ID = fromHex('00112233445566778899aabbccddeeff');
const CERT = fromHex('30 03 02 01 05');

/** A card with three containers: 0 signature RSA-2048, 1 empty, 2 key exchange P-256. */
function card(
  keys: (ContainerKeySummary | null)[] = [
    { half: 'signature', bits: 2048, name: 'c0' },
    null,
    { half: 'keyExchange', bits: 256, name: 'c2' },
  ],
) {
  const certificates = new Map<number, Uint8Array>();
  const kindOf = (index: number): CertificateFileKind | undefined =>
    keys[index] ? (keys[index]!.half === 'signature' ? 'ksc' : 'kxc') : undefined;
  const store: CertificateFileStore = {
    read: async (index, kind) => (kindOf(index) === kind ? certificates.get(index) : undefined),
    write: async (index, kind, der) => {
      if (kindOf(index) !== kind) throw new ScardError('SCARD_E_FILE_NOT_FOUND', 'no such file');
      certificates.set(index, der);
    },
    delete: async (index) => {
      certificates.delete(index);
    },
    list: async () =>
      [...certificates.keys()]
        .sort()
        .map((index): CertificateFileRef => ({ containerIndex: index, kind: kindOf(index)! })),
  };
  const vfs = new VirtualFileSystem({
    cardId: async () => CARD_ID,
    containerCount: keys.length,
    containerKeys: async () => keys,
    certificates: store,
    defaultContainer: 2,
  });
  return { vfs, certificates };
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return ScardError.isInstance(error) ? error.name : String(error);
  }
}

describe('VirtualFileSystem', () => {
  it('reads the root files: cardid, cardcf (6 zero bytes until written), cardapps = mscp', async () => {
    const { vfs } = card();
    expect(await vfs.readFile(null, 'cardid')).toEqual(CARD_ID);
    expect(await vfs.readFile(null, 'cardcf')).toEqual(new Uint8Array(6));
    expect(await vfs.readFile('', 'CARDAPPS')).toEqual(encodeCardApps(['mscp']));
    expect(await vfs.enumFiles(null)).toEqual(['cardid', 'cardcf', 'cardapps']);
    expect(await code(vfs.readFile(null, 'other'))).toBe('SCARD_E_FILE_NOT_FOUND');
    expect(await code(vfs.readFile('nodir', 'x'))).toBe('SCARD_E_DIR_NOT_FOUND');
  });

  it('synthesises cmapfile from the keys: valid flags, sizes, names, default container preferred', async () => {
    const { vfs } = card();
    const records = decodeContainerMap(await vfs.readFile('mscp', 'cmapfile'));
    expect(records).toEqual([
      { guid: 'c0', flags: CONTAINER_MAP_VALID_CONTAINER, signatureKeySizeBits: 2048, keyExchangeKeySizeBits: 0 },
      { guid: '', flags: 0, signatureKeySizeBits: 0, keyExchangeKeySizeBits: 0 },
      {
        guid: 'c2',
        flags: CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER,
        signatureKeySizeBits: 0,
        keyExchangeKeySizeBits: 256,
      },
    ]);
  });

  it('cmapfile write policy: a consistent write keeps its names; an inconsistent or undecodable one is INVALID_PARAMETER', async () => {
    const { vfs } = card();
    const records = decodeContainerMap(await vfs.readFile('mscp', 'cmapfile'));
    const renamed = records.map((record, index) => (record.flags ? { ...record, guid: `name-${index}` } : record));
    await vfs.writeFile('mscp', 'cmapfile', encodeContainerMap(renamed));
    expect(decodeContainerMap(await vfs.readFile('mscp', 'cmapfile')).map((record) => record.guid)).toEqual([
      'name-0',
      '',
      'name-2',
    ]);
    const wrongSize = renamed.map((record, index) =>
      index === 0 ? { ...record, signatureKeySizeBits: 1024 } : record,
    );
    expect(await code(vfs.writeFile('mscp', 'cmapfile', encodeContainerMap(wrongSize)))).toBe(
      'SCARD_E_INVALID_PARAMETER',
    );
    const claimsEmpty = renamed.map((record, index) => (index === 1 ? { ...renamed[0]! } : record));
    expect(await code(vfs.writeFile('mscp', 'cmapfile', encodeContainerMap(claimsEmpty)))).toBe(
      'SCARD_E_INVALID_PARAMETER',
    );
    expect(await code(vfs.writeFile('mscp', 'cmapfile', new Uint8Array(5)))).toBe('SCARD_E_INVALID_PARAMETER');
    // The rejected writes changed nothing.
    expect(decodeContainerMap(await vfs.readFile('mscp', 'cmapfile'))[0]!.guid).toBe('name-0');
  });

  it('cardcf policy: a cache file is kept in the context; anything else is INVALID_PARAMETER and changes nothing', async () => {
    const { vfs } = card();
    const written = encodeCardCacheFile({ version: 0, pinsFreshness: 1, containersFreshness: 2, filesFreshness: 3 });
    await vfs.writeFile(null, 'cardcf', written);
    expect(await vfs.readFile(null, 'cardcf')).toEqual(written);
    expect(await code(vfs.writeFile(null, 'cardcf', new Uint8Array(5)))).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await vfs.readFile(null, 'cardcf')).toEqual(written);
  });

  it('cardid and cardapps accept their own bytes and refuse others with UNSUPPORTED_FEATURE', async () => {
    const { vfs } = card();
    await vfs.writeFile(null, 'cardid', CARD_ID);
    await vfs.writeFile(null, 'cardapps', encodeCardApps(['mscp']));
    expect(await code(vfs.writeFile(null, 'cardid', new Uint8Array(16)))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.writeFile(null, 'cardapps', encodeCardApps(['mscp', 'other'])))).toBe(
      'SCARD_E_UNSUPPORTED_FEATURE',
    );
  });

  it('certificate files: written as DER or compressed, read back as DER, listed, deleted; bad bytes INVALID_PARAMETER', async () => {
    const { vfs, certificates } = card();
    await vfs.createFile('mscp', 'ksc00');
    await vfs.writeFile('mscp', 'ksc00', CERT);
    await vfs.writeFile('mscp', 'kxc02', compressCertificate(CERT));
    expect(await vfs.readFile('mscp', 'ksc00')).toEqual(CERT);
    expect(await vfs.readFile('mscp', 'KXC2')).toEqual(CERT);
    expect(await vfs.enumFiles('mscp')).toEqual(['cmapfile', 'ksc00', 'kxc02']);
    expect(await code(vfs.writeFile('mscp', 'ksc00', fromHex('01 02 03')))).toBe('SCARD_E_INVALID_PARAMETER');
    expect(await code(vfs.writeFile('mscp', 'kxc00', CERT))).toBe('SCARD_E_FILE_NOT_FOUND');
    expect(await code(vfs.writeFile('mscp', 'ksc03', CERT))).toBe('SCARD_E_FILE_NOT_FOUND');
    await vfs.deleteFile('mscp', 'ksc00');
    expect(certificates.has(0)).toBe(false);
    expect(await code(vfs.deleteFile('mscp', 'ksc00'))).toBe('SCARD_E_FILE_NOT_FOUND');
  });

  it('answers access conditions from the one table; fixed files cannot be created or deleted', async () => {
    const { vfs } = card();
    await vfs.writeFile('mscp', 'ksc00', CERT);
    expect((await vfs.getFileInfo(null, 'cardid')).accessCondition).toBe(STANDARD_FILE_ACCESS.cardid);
    expect((await vfs.getFileInfo(null, 'cardcf')).accessCondition).toBe(FileAccessCondition.EveryoneReadUserWriteAc);
    expect((await vfs.getFileInfo('mscp', 'cmapfile')).accessCondition).toBe(
      FileAccessCondition.EveryoneReadUserWriteAc,
    );
    expect(await vfs.getFileInfo('mscp', 'ksc00')).toEqual({
      size: CERT.length,
      accessCondition: FileAccessCondition.EveryoneReadAdminWriteAc,
    });
    expect(await code(vfs.createFile(null, 'cardid'))).toBe('ERROR_FILE_EXISTS');
    expect(await code(vfs.createFile('mscp', 'cmapfile'))).toBe('ERROR_FILE_EXISTS');
    expect(await code(vfs.createFile('mscp', 'myfile'))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.deleteFile('mscp', 'cmapfile'))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.deleteFile(null, 'cardcf'))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.createDirectory('mscp'))).toBe('ERROR_FILE_EXISTS');
    expect(await code(vfs.createDirectory('newdir'))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.deleteDirectory('mscp'))).toBe('SCARD_E_UNSUPPORTED_FEATURE');
    expect(await code(vfs.deleteDirectory('none'))).toBe('SCARD_E_DIR_NOT_FOUND');
  });
});
