/**
 * The entry points of CARD_DATA version 4 (docs/spec/minidriver.md §3.1 slots 16-41), as a card plugin implements them.
 *
 * The plugin sees validated arguments only: CardSession has already checked names, flags, structure
 * versions and the negotiated version, and holds the card transaction. Methods marked optional may be
 * left out; CardSession then answers SCARD_E_UNSUPPORTED_FEATURE. Every method throws only ScardError
 * (a wrong PIN is SCARD_W_WRONG_CHV with `retriesLeft`).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { DirectoryAccessCondition, FileAccessCondition, KeySpec, UserId } from './constants.js';
import type {
  CardCapabilities,
  CardFileInfo,
  CardFreeSpaceInfo,
  CardKeySizes,
  ContainerInfo,
  CreateContainerRequest,
  DhAgreementRequest,
  DirectoryName,
  RsaDecryptRequest,
  SignDataRequest,
} from './structures.js';

export interface MinidriverV4 {
  /** CardDeleteContext: release everything; no transaction is held and the card may be gone. Never fails. */
  deleteContext(): Promise<void>;
  /** CardQueryCapabilities. */
  queryCapabilities(): Promise<CardCapabilities>;

  /** CardDeleteContainer: delete the key material of a container. An empty index succeeds. */
  deleteContainer?(containerIndex: number): Promise<void>;
  /** CardCreateContainer: generate or import a key pair; `request.pinId` is ROLE_USER. */
  createContainer?(containerIndex: number, request: CreateContainerRequest): Promise<void>;
  /** CardGetContainerInfo: public keys as BLOBs; SCARD_E_NO_KEY_CONTAINER for an empty index. */
  getContainerInfo(containerIndex: number): Promise<ContainerInfo>;

  /** CardAuthenticatePin: `user` or `admin` with a PIN. */
  authenticatePin?(userId: UserId, pin: Uint8Array): Promise<void>;
  /** CardGetChallenge: challenge of the admin key (a multiple of 8 bytes, never repeating). */
  getChallenge?(): Promise<Uint8Array>;
  /** CardAuthenticateChallenge: the response to the last challenge authenticates the admin. */
  authenticateChallenge?(response: Uint8Array): Promise<void>;
  /** CardUnblockPin: authenticate (admin response or PUK) and set a new user PIN in one step. */
  unblockPin?(
    userId: 'user',
    authenticationData: Uint8Array,
    newPin: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void>;
  /** CardChangeAuthenticator: change a PIN (mode pin) or the admin key (mode challenge-response). */
  changeAuthenticator?(
    userId: UserId,
    currentAuthenticator: Uint8Array,
    newAuthenticator: Uint8Array,
    retryCount: number,
    mode: 'challenge-response' | 'pin',
  ): Promise<void>;
  /** CardDeauthenticate (optional; without it the caller resets the card). */
  deauthenticate?(userId: UserId): Promise<void>;

  /** CardCreateDirectory. */
  createDirectory?(name: string, accessCondition: DirectoryAccessCondition): Promise<void>;
  /** CardDeleteDirectory. */
  deleteDirectory?(name: string): Promise<void>;
  /** CardCreateFile. */
  createFile?(
    directory: DirectoryName,
    name: string,
    initialSize: number,
    accessCondition: FileAccessCondition,
  ): Promise<void>;
  /** CardReadFile: the whole file. Must not use the cache functions for cardid and cardcf. */
  readFile(directory: DirectoryName, name: string): Promise<Uint8Array>;
  /** CardWriteFile: replace the whole contents; files grow as needed. */
  writeFile?(directory: DirectoryName, name: string, data: Uint8Array): Promise<void>;
  /** CardDeleteFile. */
  deleteFile?(directory: DirectoryName, name: string): Promise<void>;
  /** CardEnumFiles: file names of a directory (SCARD_E_FILE_NOT_FOUND when it holds none). */
  enumFiles(directory: DirectoryName): Promise<string[]>;
  /** CardGetFileInfo. */
  getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo>;
  /** CardQueryFreeSpace. */
  queryFreeSpace(): Promise<CardFreeSpaceInfo>;
  /** CardQueryKeySizes. */
  queryKeySizes(keySpec: KeySpec): Promise<CardKeySizes>;

  /**
   * CardSignData: RSA signature little-endian (modulus length), ECDSA r || s big-endian.
   * Size-only requests are answered by the session and never reach the plugin.
   */
  signData(request: SignDataRequest): Promise<Uint8Array>;
  /**
   * CardRSADecrypt: the result little-endian, as the spec's byte order rule says (docs/spec/minidriver.md §8.1); with padding
   * 'none' the whole raw block, otherwise the message with the padding removed.
   */
  rsaDecrypt?(request: RsaDecryptRequest): Promise<Uint8Array>;
  /** CardConstructDHAgreement: returns the agreement's index (0..255), kept by the plugin. */
  constructDHAgreement?(request: DhAgreementRequest): Promise<number>;
}
