import type { CardEncryptedData, CardKeyHandle } from '@minidriver/spec';
import { ScardError, wipe } from '@minidriver/spec';
import { checkBytes, checkContainerIndex, checkDword, checkZeroFlags } from './parameters.js';
import { checkText } from './request-checks.js';
import type { SessionCore } from './session-core.js';

/** MDImportSessionKey. */
export function mdImportSessionKey(
  core: SessionCore,
  blobType: string,
  algorithmId: string,
  input: Uint8Array,
): Promise<CardKeyHandle> {
  return core.pipeline.call(
    'mdImportSessionKey',
    () => ({
      blobType: checkText(blobType, 'pwszBlobType'),
      algorithmId: checkText(algorithmId, 'pwszAlgId'),
      input: new Uint8Array(checkBytes(input, 'pbInput')),
    }),
    async (minidriver, args) => {
      try {
        return await minidriver.mdImportSessionKey!(args.blobType, args.algorithmId, args.input);
      } finally {
        wipe(args.input);
      }
    },
  );
}

/** MDEncryptData. */
export function mdEncryptData(
  core: SessionCore,
  key: CardKeyHandle,
  secureFunction: string,
  input: Uint8Array,
  flags = 0,
): Promise<CardEncryptedData[]> {
  return core.pipeline.call(
    'mdEncryptData',
    () => ({
      key: checkDword(key, 'hKey'),
      secureFunction: checkText(secureFunction, 'pwszSecureFunction'),
      input: new Uint8Array(checkBytes(input, 'pbInput')),
      flags: checkDword(flags, 'dwFlags'),
    }),
    async (minidriver, args) => {
      try {
        const blobs = await minidriver.mdEncryptData!(args.key, args.secureFunction, args.input, args.flags);
        return blobs.map((blob) => ({ data: new Uint8Array(blob.data) }));
      } finally {
        wipe(args.input);
      }
    },
  );
}

/** CardImportSessionKey. */
export function importSessionKey(
  core: SessionCore,
  containerIndex: number,
  padding: unknown,
  blobType: string,
  algorithmId: string,
  input: Uint8Array,
  flags = 0,
): Promise<CardKeyHandle> {
  return core.pipeline.call(
    'importSessionKey',
    () => ({
      index: checkContainerIndex(containerIndex),
      blobType: checkText(blobType, 'pwszBlobType'),
      algorithmId: checkText(algorithmId, 'pwszAlgId'),
      input: new Uint8Array(checkBytes(input, 'pbInput')),
      flags: checkDword(flags, 'dwFlags'),
    }),
    (minidriver, args) =>
      minidriver.importSessionKey!(args.index, padding, args.blobType, args.algorithmId, args.input, args.flags),
  );
}

/** CardGetSharedKeyHandle. */
export function getSharedKeyHandle(
  core: SessionCore,
  input: Uint8Array,
): Promise<{ handle: CardKeyHandle; output?: Uint8Array }> {
  return core.pipeline.call(
    'getSharedKeyHandle',
    () => new Uint8Array(checkBytes(input, 'pbInput')),
    async (minidriver, data) => {
      const result = await minidriver.getSharedKeyHandle!(data);
      return result.output === undefined
        ? { handle: result.handle }
        : { handle: result.handle, output: new Uint8Array(result.output) };
    },
  );
}

/** CardGetAlgorithmProperty. */
export function getAlgorithmProperty(
  core: SessionCore,
  algorithmId: string,
  property: string,
  flags = 0,
): Promise<Uint8Array> {
  return core.pipeline.call(
    'getAlgorithmProperty',
    () => {
      // dwFlags is reserved: it must be 0 (cardmod.h CardGetAlgorithmProperty).
      checkZeroFlags(flags);
      return { algorithmId: checkText(algorithmId, 'pwszAlgId'), property: checkText(property, 'pwszProperty') };
    },
    async (minidriver, args) =>
      new Uint8Array(await minidriver.getAlgorithmProperty!(args.algorithmId, args.property, 0)),
  );
}

/** CardGetKeyProperty: `flags` must be 0. */
export function getKeyProperty(
  core: SessionCore,
  key: CardKeyHandle,
  property: string,
  flags = 0,
): Promise<Uint8Array> {
  return core.pipeline.call(
    'getKeyProperty',
    () => {
      checkZeroFlags(flags);
      return { key: checkDword(key, 'hKey'), property: checkText(property, 'pwszProperty') };
    },
    async (minidriver, args) => new Uint8Array(await minidriver.getKeyProperty!(args.key, args.property, 0)),
  );
}

/** CardSetKeyProperty: `flags` must be 0. */
export function setKeyProperty(
  core: SessionCore,
  key: CardKeyHandle,
  property: string,
  value: Uint8Array,
  flags = 0,
): Promise<void> {
  return core.pipeline.call(
    'setKeyProperty',
    () => {
      checkZeroFlags(flags);
      return {
        key: checkDword(key, 'hKey'),
        property: checkText(property, 'pwszProperty'),
        value: new Uint8Array(checkBytes(value, 'pbInput')),
      };
    },
    (minidriver, args) => minidriver.setKeyProperty!(args.key, args.property, args.value, 0),
  );
}

/** CardDestroyKey. */
export function destroyKey(core: SessionCore, key: CardKeyHandle): Promise<void> {
  return core.pipeline.call(
    'destroyKey',
    () => checkDword(key, 'hKey'),
    (minidriver, handle) => minidriver.destroyKey!(handle),
  );
}

/** CardProcessEncryptedData. */
export function processEncryptedData(
  core: SessionCore,
  key: CardKeyHandle,
  secureFunction: string,
  data: readonly CardEncryptedData[],
  flags = 0,
): Promise<Uint8Array> {
  return core.pipeline.call(
    'processEncryptedData',
    () => {
      if (!Array.isArray(data) || data.length === 0) {
        throw new ScardError('SCARD_E_INVALID_PARAMETER', 'pEncryptedData is missing');
      }
      return {
        key: checkDword(key, 'hKey'),
        secureFunction: checkText(secureFunction, 'pwszSecureFunction'),
        blobs: data.map((blob) => ({ data: new Uint8Array(checkBytes(blob?.data, 'CARD_ENCRYPTED_DATA')) })),
        flags: checkDword(flags, 'dwFlags'),
      };
    },
    async (minidriver, args) =>
      new Uint8Array(await minidriver.processEncryptedData!(args.key, args.secureFunction, args.blobs, args.flags)),
  );
}
