/**
 * Group 2 — parameter checks on every entry point (docs/spec/minidriver.md §1.5, §5, §11): bad names, names too long,
 * reserved flags, bad key specs and structure versions are refused with the spec's exact code, and a
 * refused call never reaches the card (no APDU beyond the session's own cardcf read, measured here).
 */
import {
  CARD_AUTHENTICATE_PIN_PIN,
  CARD_PADDING_INFO_PRESENT,
  CARD_PADDING_PKCS1,
  CardProperty,
  type CardPropertyName,
  FileAccessCondition,
  KeySpec,
  PIN_CHANGE_FLAG_CHANGEPIN,
  PIN_CHANGE_FLAG_UNBLOCK,
  ROLE_ADMIN,
  ROLE_USER,
  type ScardCodeName,
  type UserId,
} from '@minidriver/spec';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { check, checkFailedWith, closeRig, countApdus, must, openRig, type Rig } from '../harness.js';
import type { ConformanceOptions } from '../options.js';

interface ParameterCase {
  readonly entryPoint: string;
  readonly what: string;
  readonly code: ScardCodeName | readonly ScardCodeName[];
  readonly rule: string;
  /** Lowest negotiated CARD_DATA version at which the case applies. */
  readonly minVersion?: number;
  /** Only at exactly this negotiated version. */
  readonly onlyVersion?: number;
  readonly call: (rig: Rig) => Promise<unknown>;
}

const PIN = new TextEncoder().encode('123456');
const HASH = new Uint8Array(32);
const LONG_NAME = 'abcdefghi';

const CASES: readonly ParameterCase[] = [
  // Files (docs/spec/minidriver.md §4.1 names, docs/spec/minidriver.md §5.3)
  {
    entryPoint: 'CardReadFile',
    what: 'a 9-character file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.readFile('mscp', LONG_NAME),
  },
  {
    entryPoint: 'CardReadFile',
    what: 'an empty file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1',
    call: (rig) => rig.session.readFile(null, ''),
  },
  {
    entryPoint: 'CardReadFile',
    what: 'a 9-character directory name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.readFile(LONG_NAME, 'cmapfile'),
  },
  {
    entryPoint: 'CardReadFile',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.4/§11',
    call: (rig) => rig.session.readFile(null, 'cardid', 1),
  },
  {
    entryPoint: 'CardReadFile',
    what: 'a non-ANSI file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §1.3/§4.1',
    call: (rig) => rig.session.readFile('mscp', 'k\u20acc00'),
  },
  {
    entryPoint: 'CardWriteFile',
    what: 'a 9-character file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.writeFile('mscp', LONG_NAME, new Uint8Array(4)),
  },
  {
    entryPoint: 'CardWriteFile',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.5/§11',
    call: (rig) => rig.session.writeFile('mscp', 'cmapfile', new Uint8Array(0), 1),
  },
  {
    entryPoint: 'CardWriteFile',
    what: 'no data',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.5',
    call: (rig) => rig.session.writeFile('mscp', 'cmapfile', undefined as unknown as Uint8Array),
  },
  {
    entryPoint: 'CardCreateFile',
    what: 'a 9-character file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.createFile('mscp', LONG_NAME, 0, FileAccessCondition.EveryoneReadUserWriteAc),
  },
  {
    entryPoint: 'CardCreateFile',
    what: 'access condition InvalidAc',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.3',
    call: (rig) => rig.session.createFile('mscp', 'conf', 0, FileAccessCondition.InvalidAc),
  },
  {
    entryPoint: 'CardCreateFile',
    what: 'access condition 7',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.3',
    call: (rig) => rig.session.createFile('mscp', 'conf', 0, 7),
  },
  {
    entryPoint: 'CardDeleteFile',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.6/§11',
    call: (rig) => rig.session.deleteFile('mscp', 'kxc00', 1),
  },
  {
    entryPoint: 'CardDeleteFile',
    what: 'a 9-character file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.deleteFile('mscp', LONG_NAME),
  },
  {
    entryPoint: 'CardEnumFiles',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.7/§11',
    call: (rig) => rig.session.enumFiles(null, 1),
  },
  {
    entryPoint: 'CardEnumFiles',
    what: 'a 9-character directory name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.enumFiles(LONG_NAME),
  },
  {
    entryPoint: 'CardGetFileInfo',
    what: 'a 9-character file name',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §4.1/§11',
    call: (rig) => rig.session.getFileInfo(null, LONG_NAME),
  },
  {
    entryPoint: 'CardGetFileInfo',
    what: 'CARD_FILE_INFO.dwVersion 2',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §1.6/§11 structure versions',
    call: (rig) => rig.session.getFileInfo(null, 'cardid', 2),
  },
  {
    entryPoint: 'CardQueryFreeSpace',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.9',
    call: (rig) => rig.session.queryFreeSpace(1),
  },
  {
    entryPoint: 'CardQueryFreeSpace',
    what: 'CARD_FREE_SPACE_INFO.dwVersion 2',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §1.6/§11 structure versions',
    call: (rig) => rig.session.queryFreeSpace(0, 2),
  },
  {
    entryPoint: 'CardCreateDirectory',
    what: 'a 9-character name',
    code: ['SCARD_E_INVALID_PARAMETER'],
    rule: 'docs/spec/minidriver.md §4.1/§5.3.1',
    call: (rig) => rig.session.createDirectory(LONG_NAME, 1),
  },
  {
    entryPoint: 'CardCreateDirectory',
    what: 'access condition InvalidDirAc',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.3.1',
    call: (rig) => rig.session.createDirectory('confdir', 0),
  },
  // Capabilities and key sizes (docs/spec/minidriver.md §5.1.3, §5.5.1)
  {
    entryPoint: 'CardQueryCapabilities',
    what: 'CARD_CAPABILITIES.dwVersion 2',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §5.1.3',
    call: (rig) => rig.session.queryCapabilities(2),
  },
  {
    entryPoint: 'CardQueryKeySizes',
    what: 'key spec 0xFFFF',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.5.1/§11',
    call: (rig) => rig.session.queryKeySizes(0xffff),
  },
  {
    entryPoint: 'CardQueryKeySizes',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.5.1/§11',
    call: (rig) => rig.session.queryKeySizes(KeySpec.AT_KEYEXCHANGE, 1),
  },
  {
    entryPoint: 'CardQueryKeySizes',
    what: 'CARD_KEY_SIZES.dwVersion 2',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §1.6/§11 structure versions',
    call: (rig) => rig.session.queryKeySizes(KeySpec.AT_KEYEXCHANGE, 0, 2),
  },
  // Containers (docs/spec/minidriver.md §5.4)
  {
    entryPoint: 'CardCreateContainer',
    what: 'container index 256',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.1',
    call: (rig) => rig.session.createContainer(256, 1, KeySpec.AT_KEYEXCHANGE, 2048),
  },
  {
    entryPoint: 'CardCreateContainer',
    what: 'dwFlags 3 (both KEY_GEN and KEY_IMPORT)',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.1',
    call: (rig) => rig.session.createContainer(0, 3, KeySpec.AT_KEYEXCHANGE, 2048),
  },
  {
    entryPoint: 'CardCreateContainer',
    what: 'key spec 9',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §2.3/§5.4.1',
    call: (rig) => rig.session.createContainer(0, 1, 9, 2048),
  },
  {
    entryPoint: 'CardCreateContainer',
    what: 'an RSA key size of 0 with KEY_GEN',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.1',
    call: (rig) => rig.session.createContainer(0, 1, KeySpec.AT_KEYEXCHANGE, 0),
  },
  {
    entryPoint: 'CardCreateContainer',
    what: 'KEY_IMPORT without a key BLOB',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.1',
    call: (rig) => rig.session.createContainer(0, 2, KeySpec.AT_KEYEXCHANGE, 0),
  },
  {
    entryPoint: 'CardCreateContainerEx',
    what: 'PIN id 8',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.2',
    minVersion: 7,
    call: (rig) => rig.session.createContainerEx(0, 1, KeySpec.AT_KEYEXCHANGE, 2048, undefined, 8 as never),
  },
  {
    entryPoint: 'CardDeleteContainer',
    what: 'container index 256',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.3',
    call: (rig) => rig.session.deleteContainer(256),
  },
  {
    entryPoint: 'CardDeleteContainer',
    what: 'dwReserved 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.3',
    call: (rig) => rig.session.deleteContainer(0, 1),
  },
  {
    entryPoint: 'CardGetContainerInfo',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.4/§11',
    call: (rig) => rig.session.getContainerInfo(0, 1),
  },
  {
    entryPoint: 'CardGetContainerInfo',
    what: 'container index -1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.4',
    call: (rig) => rig.session.getContainerInfo(-1),
  },
  {
    entryPoint: 'CardGetContainerInfo',
    what: 'CONTAINER_INFO.dwVersion 2',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §1.6/§11 structure versions',
    call: (rig) => rig.session.getContainerInfo(0, 0, 2),
  },
  {
    entryPoint: 'CardGetContainerProperty',
    what: 'an unknown property',
    code: ['SCARD_E_INVALID_PARAMETER', 'SCARD_E_UNSUPPORTED_FEATURE'],
    rule: 'docs/spec/minidriver.md §5.4.5/§11',
    minVersion: 6,
    call: (rig) => rig.session.getContainerProperty(0, 'No Such Property' as never),
  },
  {
    entryPoint: 'CardGetContainerProperty',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.4.5',
    minVersion: 6,
    call: (rig) => rig.session.getContainerProperty(0, 'PIN Identifier', 1),
  },
  // PINs (docs/spec/minidriver.md §5.2)
  {
    entryPoint: 'CardAuthenticatePin',
    what: 'user id "anonymous"',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.1/§11',
    call: (rig) => rig.session.authenticatePin('anonymous' as UserId, PIN),
  },
  {
    entryPoint: 'CardAuthenticatePin',
    what: 'user id "foo"',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.1/§11',
    call: (rig) => rig.session.authenticatePin('foo' as UserId, PIN),
  },
  {
    entryPoint: 'CardAuthenticatePin',
    what: 'no PIN',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.1',
    call: (rig) => rig.session.authenticatePin('user', undefined as unknown as Uint8Array),
  },
  {
    entryPoint: 'CardAuthenticateEx',
    what: 'PIN id 8',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.7/§11',
    minVersion: 6,
    call: (rig) => rig.session.authenticateEx(8 as never, 0, PIN),
  },
  {
    entryPoint: 'CardAuthenticateEx',
    what: 'an unknown flag 0x1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.7/§11',
    minVersion: 6,
    call: (rig) => rig.session.authenticateEx(ROLE_USER, 0x1, PIN),
  },
  {
    entryPoint: 'CardAuthenticateEx',
    what: 'GENERATE_SESSION_PIN and SESSION_PIN together',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.7',
    minVersion: 6,
    call: (rig) => rig.session.authenticateEx(ROLE_USER, 0x30000000, PIN),
  },
  {
    entryPoint: 'CardDeauthenticateEx',
    what: 'PIN_SET 0x100',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.10',
    minVersion: 6,
    call: (rig) => rig.session.deauthenticateEx(0x100),
  },
  {
    entryPoint: 'CardDeauthenticateEx',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.10',
    minVersion: 6,
    call: (rig) => rig.session.deauthenticateEx(0xff, 1),
  },
  {
    entryPoint: 'CardChangeAuthenticatorEx',
    what: 'both UNBLOCK and CHANGEPIN',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.9/§11',
    minVersion: 6,
    call: (rig) =>
      rig.session.changeAuthenticatorEx(
        PIN_CHANGE_FLAG_UNBLOCK | PIN_CHANGE_FLAG_CHANGEPIN,
        ROLE_USER,
        PIN,
        ROLE_USER,
        PIN,
      ),
  },
  {
    entryPoint: 'CardChangeAuthenticatorEx',
    what: 'neither UNBLOCK nor CHANGEPIN',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.9/§11',
    minVersion: 6,
    call: (rig) => rig.session.changeAuthenticatorEx(0, ROLE_USER, PIN, ROLE_USER, PIN),
  },
  {
    entryPoint: 'CardChangeAuthenticatorEx',
    what: 'a PIN unblocking itself',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.9/§11',
    minVersion: 6,
    call: (rig) => rig.session.changeAuthenticatorEx(PIN_CHANGE_FLAG_UNBLOCK, ROLE_USER, PIN, ROLE_USER, PIN),
  },
  {
    entryPoint: 'CardUnblockPin',
    what: 'user id "admin"',
    code: 'SCARD_E_UNSUPPORTED_FEATURE',
    rule: 'docs/spec/minidriver.md §5.2.4',
    call: (rig) => rig.session.unblockPin('admin', PIN, PIN, 0, CARD_AUTHENTICATE_PIN_PIN),
  },
  {
    entryPoint: 'CardUnblockPin',
    what: 'dwFlags 3',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.4',
    call: (rig) => rig.session.unblockPin('user', PIN, PIN, 0, 3),
  },
  {
    entryPoint: 'CardChangeAuthenticator',
    what: 'challenge/response for the user',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.5',
    call: (rig) => rig.session.changeAuthenticator('user', PIN, PIN, 0, 1),
  },
  {
    entryPoint: 'CardDeauthenticate',
    what: 'user id "anonymous"',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.6',
    call: (rig) => rig.session.deauthenticate('anonymous' as UserId),
  },
  {
    entryPoint: 'CardGetChallengeEx',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.2.8',
    minVersion: 6,
    call: (rig) => rig.session.getChallengeEx(ROLE_ADMIN, 1),
  },
  // Cryptography (docs/spec/minidriver.md §5.6)
  {
    entryPoint: 'CardSignData',
    what: 'key spec 9',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.1',
    call: (rig) =>
      rig.session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: 9,
        signingFlags: 0,
        hashAlgorithmId: 0x800c,
        data: HASH,
      }),
  },
  {
    entryPoint: 'CardSignData',
    what: 'an ECDH key spec',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.1',
    call: (rig) =>
      rig.session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_ECDHE_P256,
        signingFlags: 0,
        hashAlgorithmId: 0,
        data: HASH,
      }),
  },
  {
    entryPoint: 'CardSignData',
    what: 'unknown dwSigningFlags bits',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.1',
    call: (rig) =>
      rig.session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: 0x100,
        hashAlgorithmId: 0x800c,
        data: HASH,
      }),
  },
  {
    entryPoint: 'CardSignData',
    what: 'CARD_SIGNING_INFO.dwVersion 3',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §9.3',
    call: (rig) =>
      rig.session.signData({
        version: 3,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: 0,
        hashAlgorithmId: 0x800c,
        data: HASH,
      }),
  },
  {
    entryPoint: 'CardSignData',
    what: 'PADDING_INFO_PRESENT in a version 1 structure',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §9.3',
    call: (rig) =>
      rig.session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: CARD_PADDING_INFO_PRESENT,
        hashAlgorithmId: 0,
        data: HASH,
        paddingType: CARD_PADDING_PKCS1,
        paddingInfo: { algorithm: 'SHA256' },
      }),
  },
  {
    entryPoint: 'CardSignData',
    what: 'a 20-byte SHA-256 hash',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.1',
    call: (rig) =>
      rig.session.signData({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        signingFlags: 0,
        hashAlgorithmId: 0x800c,
        data: new Uint8Array(20),
      }),
  },
  {
    entryPoint: 'CardRSADecrypt',
    what: 'AT_SIGNATURE',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.2 check 4/docs/spec/minidriver.md §11',
    call: (rig) =>
      rig.session.rsaDecrypt({
        version: 2,
        containerIndex: 0,
        keySpec: KeySpec.AT_SIGNATURE,
        data: new Uint8Array(256),
        paddingType: CARD_PADDING_PKCS1,
      }),
  },
  {
    entryPoint: 'CardRSADecrypt',
    what: 'CARD_RSA_DECRYPT_INFO.dwVersion 3',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §5.6.2 check 2',
    call: (rig) =>
      rig.session.rsaDecrypt({
        version: 3,
        containerIndex: 0,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: new Uint8Array(256),
      }),
  },
  {
    entryPoint: 'CardRSADecrypt',
    what: 'a version 1 structure with CARD_DATA 7',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §5.6.2 check 3/docs/spec/minidriver.md §11',
    onlyVersion: 7,
    call: (rig) =>
      rig.session.rsaDecrypt({
        version: 1,
        containerIndex: 0,
        keySpec: KeySpec.AT_KEYEXCHANGE,
        data: new Uint8Array(256),
      }),
  },
  {
    entryPoint: 'CardConstructDHAgreement',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.3',
    call: (rig) =>
      rig.session.constructDHAgreement({ version: 2, containerIndex: 0, flags: 1, publicKey: new Uint8Array(72) }),
  },
  {
    entryPoint: 'CardDeriveKey',
    what: 'CARD_DERIVE_KEY.dwVersion 3',
    code: 'ERROR_REVISION_MISMATCH',
    rule: 'docs/spec/minidriver.md §5.6.4',
    minVersion: 5,
    call: (rig) => rig.session.deriveKey({ version: 3, flags: 0, kdf: 'HASH', agreementIndex: 0 }),
  },
  {
    entryPoint: 'CardDeriveKey',
    what: 'an unknown KDF',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.4',
    minVersion: 5,
    call: (rig) => rig.session.deriveKey({ version: 2, flags: 0, kdf: 'NOPE', agreementIndex: 0 }),
  },
  {
    entryPoint: 'CardDestroyDHAgreement',
    what: 'dwFlags 1',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.6.5',
    minVersion: 5,
    call: (rig) => rig.session.destroyDHAgreement(0, 1),
  },
  // Properties (docs/spec/minidriver.md §5.7, §7)
  {
    entryPoint: 'CardGetProperty',
    what: 'an unknown property',
    code: ['SCARD_E_INVALID_PARAMETER', 'SCARD_E_UNSUPPORTED_FEATURE'],
    rule: 'docs/spec/minidriver.md §5.7/§11',
    minVersion: 6,
    call: (rig) => rig.session.getProperty('No Such Property' as CardPropertyName),
  },
  {
    entryPoint: 'CardGetProperty',
    what: 'dwFlags 1 on a flag-less property',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §5.7/§11',
    minVersion: 6,
    call: (rig) => rig.session.getProperty(CardProperty.CP_CARD_GUID, 1),
  },
  {
    entryPoint: 'CardGetProperty',
    what: 'a write-only property (Parent Window)',
    code: 'SCARD_E_INVALID_PARAMETER',
    rule: 'docs/spec/minidriver.md §7.1',
    minVersion: 6,
    call: (rig) => rig.session.getProperty(CardProperty.CP_PARENT_WINDOW),
  },
  {
    entryPoint: 'CardSetProperty',
    what: 'CP_CARD_FREE_SPACE',
    code: 'SCARD_E_UNSUPPORTED_FEATURE',
    rule: 'docs/spec/minidriver.md §11 Properties',
    minVersion: 6,
    call: (rig) =>
      rig.session.setProperty(CardProperty.CP_CARD_FREE_SPACE, {
        bytesAvailable: 0,
        keyContainersAvailable: 0,
        maxKeyContainers: 0,
      }),
  },
];

/**
 * Optional slots (docs/spec/minidriver.md §5.10): a plugin may leave them out, and the session then answers
 * SCARD_E_UNSUPPORTED_FEATURE before looking at the parameters — also a refusal that never reaches the card.
 */
const OPTIONAL_ENTRY_POINTS = new Set([
  'CardCreateDirectory',
  'CardDeleteDirectory',
  'CardCreateFile',
  'CardWriteFile',
  'CardDeleteFile',
  'CardCreateContainer',
  'CardCreateContainerEx',
  'CardDeleteContainer',
  'CardUnblockPin',
  'CardChangeAuthenticator',
  'CardChangeAuthenticatorEx',
  'CardGetChallengeEx',
  'CardRSADecrypt',
  'CardConstructDHAgreement',
  'CardDeriveKey',
  'CardDestroyDHAgreement',
]);

function acceptedCodes(entry: ParameterCase): readonly ScardCodeName[] {
  const codes: ScardCodeName[] = typeof entry.code === 'string' ? [entry.code] : [...entry.code];
  if (OPTIONAL_ENTRY_POINTS.has(entry.entryPoint) && !codes.includes('SCARD_E_UNSUPPORTED_FEATURE')) {
    codes.push('SCARD_E_UNSUPPORTED_FEATURE');
  }
  return codes;
}

export function defineParameterTests(options: ConformanceOptions): void {
  describe('parameter checks (docs/spec/minidriver.md §1.5, §5, §11) — refused before the card', () => {
    let rig: Rig;
    /** APDUs of the session's own cardcf read at the start of a call (0 on cards without cardcf). */
    let cardcfReadCost = 0;

    beforeAll(async () => {
      rig = await openRig(options);
      cardcfReadCost = (await countApdus(rig, () => rig.session.readFile(null, 'cardcf'))).apdus;
    });
    afterAll(() => closeRig(rig));

    for (const entry of CASES) {
      const codes = typeof entry.code === 'string' ? entry.code : entry.code.join(' or ');
      it(`${entry.entryPoint} with ${entry.what} → ${codes} (${entry.rule})`, async () => {
        const version = rig.session.version;
        if (entry.onlyVersion !== undefined && version !== entry.onlyVersion) return;
        if (entry.minVersion !== undefined && version < entry.minVersion) {
          // Above the negotiated version the entry point itself is refused (group 1 checks the rest).
          checkFailedWith(
            await countApdus(rig, () => entry.call(rig)),
            'SCARD_E_UNSUPPORTED_FEATURE',
            `docs/spec/minidriver.md §1.6 ${entry.entryPoint} above CARD_DATA ${version}`,
          );
          return;
        }
        const outcome = await countApdus(rig, () => entry.call(rig));
        checkFailedWith(outcome, acceptedCodes(entry), `${entry.rule} ${entry.entryPoint} with ${entry.what}`);
        check(
          outcome.apdus <= cardcfReadCost,
          `docs/spec/minidriver.md §1.5 a call refused for its parameters must not reach the card (${entry.entryPoint} with ${entry.what})`,
          `it sent ${outcome.apdus} APDUs; the session's own cardcf read costs ${cardcfReadCost}`,
        );
      });
    }

    it('the session stays usable after the refused calls (docs/spec/minidriver.md §1.5)', async () => {
      await must(
        rig.session.readFile(null, 'cardid'),
        'docs/spec/minidriver.md §5.3.4 CardReadFile(cardid) after refused calls',
      );
    });
  });
}
