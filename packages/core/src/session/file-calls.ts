import type { CardCapabilities, CardFileInfo, CardFreeSpaceInfo, CardKeySizes } from '@minidriver/spec';
import { LogicalName, StructureVersion } from '@minidriver/spec';
import { cacheTagOf } from './cache-coordinator.js';
import { resolveStructureVersion } from './negotiate.js';
import {
  checkBytes,
  checkDirectoryAccessCondition,
  checkDirectoryName,
  checkDword,
  checkFileAccessCondition,
  checkFileName,
  checkKeySpec,
  checkZeroFlags,
} from './parameters.js';
import type { SessionCore } from './session-core.js';

/** CardQueryCapabilities. `structureVersion` is CARD_CAPABILITIES.dwVersion (0 counts as 1). */
export function queryCapabilities(core: SessionCore, structureVersion = 1): Promise<CardCapabilities & { version: 1 }> {
  return core.pipeline.call(
    'queryCapabilities',
    () => resolveStructureVersion('CARD_CAPABILITIES', structureVersion, StructureVersion.CARD_CAPABILITIES),
    async (minidriver) => ({ ...(await minidriver.queryCapabilities()), version: 1 as const }),
    { checkSlot: false },
  );
}

/** CardCreateDirectory: access condition UserCreateDeleteDirAc or AdminCreateDeleteDirAc. Bumps files. */
export function createDirectory(core: SessionCore, name: string, accessCondition: number): Promise<void> {
  return core.pipeline.call(
    'createDirectory',
    () => ({ directory: checkFileName(name), condition: checkDirectoryAccessCondition(accessCondition) }),
    async (minidriver, args) => {
      await minidriver.createDirectory!(args.directory, args.condition);
      await core.caches.bump('files');
    },
  );
}

/** CardDeleteDirectory. Bumps files. */
export function deleteDirectory(core: SessionCore, name: string): Promise<void> {
  return core.pipeline.call(
    'deleteDirectory',
    () => checkFileName(name),
    async (minidriver, directory) => {
      await minidriver.deleteDirectory!(directory);
      await core.caches.bump('files');
    },
  );
}

/** CardCreateFile. Bumps files. */
export function createFile(
  core: SessionCore,
  directory: string | null,
  name: string,
  initialSize: number,
  accessCondition: number,
): Promise<void> {
  return core.pipeline.call(
    'createFile',
    () => ({
      directory: checkDirectoryName(directory),
      file: checkFileName(name),
      size: checkDword(initialSize, 'cbInitialCreationSize'),
      condition: checkFileAccessCondition(accessCondition),
    }),
    async (minidriver, args) => {
      await minidriver.createFile!(args.directory, args.file, args.size, args.condition);
      await core.caches.bump('files');
    },
  );
}

/**
 * CardReadFile: the whole file, from the cache when it is valid. In GLOBAL mode a read of cardcf returns
 * the copy read at the start of this call's transaction.
 */
export function readFile(core: SessionCore, directory: string | null, name: string, flags = 0): Promise<Uint8Array> {
  return core.pipeline.call(
    'readFile',
    () => {
      const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
      checkZeroFlags(flags);
      return args;
    },
    async (minidriver, args) => {
      if (args.directory === null && args.file === LogicalName.CACHE_FILE) {
        return core.caches.readCardcf();
      }
      if (args.directory === null && args.file === LogicalName.CARD_IDENTIFIER_FILE) {
        // cardid validates the cache itself: read it with the plugin's cache functions off (docs/spec/minidriver.md §4.8).
        return core.caches.cached('file', cacheTagOf(null, args.file), () => core.caches.readUncached(args.file));
      }
      const data = await core.caches.cached('file', cacheTagOf(args.directory, args.file), () =>
        minidriver.readFile(args.directory, args.file),
      );
      return new Uint8Array(data);
    },
    { checkSlot: false },
  );
}

/**
 * CardWriteFile: replaces the contents. Bumps files and writes cardcf back; a caller writing cardcf itself
 * invalidates the whole cache instead.
 */
export function writeFile(
  core: SessionCore,
  directory: string | null,
  name: string,
  data: Uint8Array,
  flags = 0,
): Promise<void> {
  return core.pipeline.call(
    'writeFile',
    () => {
      const args = {
        directory: checkDirectoryName(directory),
        file: checkFileName(name),
        data: new Uint8Array(checkBytes(data, 'pbData', true)),
      };
      checkZeroFlags(flags);
      return args;
    },
    async (minidriver, args) => {
      await minidriver.writeFile!(args.directory, args.file, args.data);
      await core.caches.afterFileChange(args.directory, args.file);
    },
  );
}

/** CardDeleteFile. Bumps files. */
export function deleteFile(core: SessionCore, directory: string | null, name: string, flags = 0): Promise<void> {
  return core.pipeline.call(
    'deleteFile',
    () => {
      const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
      checkZeroFlags(flags);
      return args;
    },
    async (minidriver, args) => {
      await minidriver.deleteFile!(args.directory, args.file);
      await core.caches.afterFileChange(args.directory, args.file);
    },
  );
}

/** CardEnumFiles: the file names of a directory (null or "" = root). */
export function enumFiles(core: SessionCore, directory: string | null, flags = 0): Promise<string[]> {
  return core.pipeline.call(
    'enumFiles',
    () => {
      const checked = checkDirectoryName(directory, true);
      checkZeroFlags(flags);
      return checked;
    },
    // The listing is cached as the directory's tag with an empty name (no file has one).
    async (minidriver, checked) => [
      ...(await core.caches.cached('file', cacheTagOf(checked, ''), () => minidriver.enumFiles(checked))),
    ],
    { checkSlot: false },
  );
}

/** CardGetFileInfo. `structureVersion` is CARD_FILE_INFO.dwVersion. */
export function getFileInfo(
  core: SessionCore,
  directory: string | null,
  name: string,
  structureVersion = 1,
): Promise<CardFileInfo & { version: 1 }> {
  return core.pipeline.call(
    'getFileInfo',
    () => {
      const args = { directory: checkDirectoryName(directory), file: checkFileName(name) };
      resolveStructureVersion('CARD_FILE_INFO', structureVersion, StructureVersion.CARD_FILE_INFO);
      return args;
    },
    async (minidriver, args) => ({
      ...(await minidriver.getFileInfo(args.directory, args.file)),
      version: 1 as const,
    }),
    { checkSlot: false },
  );
}

/** CardQueryFreeSpace. */
export function queryFreeSpace(
  core: SessionCore,
  flags = 0,
  structureVersion = 1,
): Promise<CardFreeSpaceInfo & { version: 1 }> {
  return core.pipeline.call(
    'queryFreeSpace',
    () => {
      checkZeroFlags(flags);
      resolveStructureVersion('CARD_FREE_SPACE_INFO', structureVersion, StructureVersion.CARD_FREE_SPACE_INFO);
    },
    async (minidriver) => ({ ...(await minidriver.queryFreeSpace()), version: 1 as const }),
    { checkSlot: false },
  );
}

/** CardQueryKeySizes. A key spec of 0 means RSA (AT_KEYEXCHANGE), as legacy callers pass it (docs/spec/minidriver.md §5.5.1). */
export function queryKeySizes(
  core: SessionCore,
  keySpec: number,
  flags = 0,
  structureVersion = 1,
): Promise<CardKeySizes & { version: 1 }> {
  return core.pipeline.call(
    'queryKeySizes',
    () => {
      checkZeroFlags(flags);
      // dwKeySpec 0 is not a key spec (cardmod.h AT_*): SCARD_E_INVALID_PARAMETER like any undefined one.
      const spec = checkKeySpec(keySpec);
      resolveStructureVersion('CARD_KEY_SIZES', structureVersion, StructureVersion.CARD_KEY_SIZES);
      return spec;
    },
    async (minidriver, spec) => ({
      ...(await core.caches.cached('container', `keysizes:${spec}`, () => minidriver.queryKeySizes(spec))),
      version: 1 as const,
    }),
    { checkSlot: false },
  );
}
