/**
 * The CARD_DATA function table as data: which version introduced each entry point, and which
 * ones a plugin must provide (docs/spec/minidriver.md §3.1, §5.10). CardSession refuses a call above the negotiated version.
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { CardDataVersion } from './constants.js';
import type { MinidriverV7 } from './minidriver-v7.js';

/** Name of an entry point of the contract. */
export type EntryPointName = keyof MinidriverV7;

/**
 * The CARD_DATA version from which each slot exists. CardSignData, CardRSADecrypt and
 * CardConstructDHAgreement sit in the version 4 block of cardmod.h (docs/spec/minidriver.md §3.1 note, docs/spec/minidriver.md §14 item 30).
 */
export const ENTRY_POINT_VERSION: Readonly<Record<EntryPointName, CardDataVersion>> = {
  deleteContext: 4,
  queryCapabilities: 4,
  deleteContainer: 4,
  createContainer: 4,
  getContainerInfo: 4,
  authenticatePin: 4,
  getChallenge: 4,
  authenticateChallenge: 4,
  unblockPin: 4,
  changeAuthenticator: 4,
  deauthenticate: 4,
  createDirectory: 4,
  deleteDirectory: 4,
  createFile: 4,
  readFile: 4,
  writeFile: 4,
  deleteFile: 4,
  enumFiles: 4,
  getFileInfo: 4,
  queryFreeSpace: 4,
  queryKeySizes: 4,
  signData: 4,
  rsaDecrypt: 4,
  constructDHAgreement: 4,
  deriveKey: 5,
  destroyDHAgreement: 5,
  getChallengeEx: 6,
  authenticateEx: 6,
  changeAuthenticatorEx: 6,
  deauthenticateEx: 6,
  getContainerProperty: 6,
  setContainerProperty: 6,
  getProperty: 6,
  setProperty: 6,
  createContainerEx: 7,
  mdImportSessionKey: 7,
  mdEncryptData: 7,
  importSessionKey: 7,
  getSharedKeyHandle: 7,
  getAlgorithmProperty: 7,
  getKeyProperty: 7,
  setKeyProperty: 7,
  destroyKey: 7,
  processEncryptedData: 7,
};

/**
 * Entry points every plugin must implement, by the version that requires them. The version 4 forms that
 * CardSession serves from their version 6/7 forms (CardAuthenticatePin from CardAuthenticateEx, ...) are
 * optional: a plugin implements the newest form of each.
 */
export const REQUIRED_ENTRY_POINTS: Readonly<Record<EntryPointName, boolean>> = Object.fromEntries(
  (Object.keys(ENTRY_POINT_VERSION) as EntryPointName[]).map((name) => [
    name,
    [
      'deleteContext',
      'queryCapabilities',
      'getContainerInfo',
      'readFile',
      'enumFiles',
      'getFileInfo',
      'queryFreeSpace',
      'queryKeySizes',
      'signData',
      'authenticateEx',
      'deauthenticateEx',
      'getContainerProperty',
      'getProperty',
      'setProperty',
    ].includes(name),
  ]),
) as Record<EntryPointName, boolean>;

/** Entry points allowed in CARD_SECURE_KEY_INJECTION_NO_CARD_MODE (docs/spec/minidriver.md §5.1.1). */
export const NO_CARD_MODE_ENTRY_POINTS: readonly EntryPointName[] = [
  'mdImportSessionKey',
  'mdEncryptData',
  'getSharedKeyHandle',
  'getAlgorithmProperty',
  'destroyKey',
  'getKeyProperty',
  'setKeyProperty',
  'processEncryptedData',
];
