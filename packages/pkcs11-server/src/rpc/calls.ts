/**
 * @packageDocumentation
 * The call table of p11-kit's RPC protocol: each call's id, PKCS #11 function name, the signatures of its
 * request and response, and the protocol version that introduced it. Version 0 is what p11-kit 0.23.x and
 * 0.24.x speak (Debian 12's p11-kit-client.so 0.24.1); version 1 (p11-kit 0.25) adds one call,
 * `C_InitToken2`, which carries the token label as a 32-byte space-padded string instead of a
 * zero-terminated one. A signature is a string of type codes, checked part by part while a message is
 * read or written:
 *
 * | code | meaning |
 * |---|---|
 * | `y` | CK_BYTE |
 * | `u` | CK_ULONG (uint64 on the wire) |
 * | `v` | CK_VERSION (two bytes) |
 * | `s` | space-padded string (length-prefixed) |
 * | `z` | zero-terminated string (length-prefixed) |
 * | `M` | CK_MECHANISM |
 * | `a_` | array of `_`: `ay` bytes, `au` ulongs, `aA` attributes |
 * | `f_` | buffer for `_` (only its capacity travels): `fy`, `fu`, `fA` |
 *
 * Source: `p11-kit/rpc-message.h` (https://github.com/p11-glue/p11-kit/blob/0.25.5/p11-kit/rpc-message.h).
 */

/** One RPC call: id on the wire, PKCS #11 name, request and response signatures. */
export interface RpcCall {
  readonly id: number;
  readonly name: string;
  readonly request: string;
  readonly response: string;
  /** The first protocol version that has this call. */
  readonly since: number;
}

/**
 * The highest protocol version this server speaks (the byte exchanged right after connecting). A client
 * asking for more gets this; one asking for less (p11-kit 0.24 asks for 0) gets what it asked for.
 */
export const RPC_PROTOCOL_VERSION = 1;

/** The bytes C_Initialize must carry, or the server refuses the client. */
export const RPC_HANDSHAKE = new TextEncoder().encode('PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1');

/** The error "call": its id and signature, used for every failed call's reply. */
export const RPC_CALL_ERROR = 0;

const TABLE: readonly (readonly [name: string, request: string, response: string, since?: number])[] = [
  ['ERROR', '', 'u'],
  ['C_Initialize', 'ayyay', ''],
  ['C_Finalize', '', ''],
  ['C_GetInfo', '', 'vsusv'],
  ['C_GetSlotList', 'yfu', 'au'],
  ['C_GetSlotInfo', 'u', 'ssuvv'],
  ['C_GetTokenInfo', 'u', 'ssssuuuuuuuuuuuvvs'],
  ['C_GetMechanismList', 'ufu', 'au'],
  ['C_GetMechanismInfo', 'uu', 'uuu'],
  ['C_InitToken', 'uayz', ''],
  ['C_OpenSession', 'uu', 'u'],
  ['C_CloseSession', 'u', ''],
  ['C_CloseAllSessions', 'u', ''],
  ['C_GetSessionInfo', 'u', 'uuuu'],
  ['C_InitPIN', 'uay', ''],
  ['C_SetPIN', 'uayay', ''],
  ['C_GetOperationState', 'ufy', 'ay'],
  ['C_SetOperationState', 'uayuu', ''],
  ['C_Login', 'uuay', ''],
  ['C_Logout', 'u', ''],
  ['C_CreateObject', 'uaA', 'u'],
  ['C_CopyObject', 'uuaA', 'u'],
  ['C_DestroyObject', 'uu', ''],
  ['C_GetObjectSize', 'uu', 'u'],
  ['C_GetAttributeValue', 'uufA', 'aAu'],
  ['C_SetAttributeValue', 'uuaA', ''],
  ['C_FindObjectsInit', 'uaA', ''],
  ['C_FindObjects', 'ufu', 'au'],
  ['C_FindObjectsFinal', 'u', ''],
  ['C_EncryptInit', 'uMu', ''],
  ['C_Encrypt', 'uayfy', 'ay'],
  ['C_EncryptUpdate', 'uayfy', 'ay'],
  ['C_EncryptFinal', 'ufy', 'ay'],
  ['C_DecryptInit', 'uMu', ''],
  ['C_Decrypt', 'uayfy', 'ay'],
  ['C_DecryptUpdate', 'uayfy', 'ay'],
  ['C_DecryptFinal', 'ufy', 'ay'],
  ['C_DigestInit', 'uM', ''],
  ['C_Digest', 'uayfy', 'ay'],
  ['C_DigestUpdate', 'uay', ''],
  ['C_DigestKey', 'uu', ''],
  ['C_DigestFinal', 'ufy', 'ay'],
  ['C_SignInit', 'uMu', ''],
  ['C_Sign', 'uayfy', 'ay'],
  ['C_SignUpdate', 'uay', ''],
  ['C_SignFinal', 'ufy', 'ay'],
  ['C_SignRecoverInit', 'uMu', ''],
  ['C_SignRecover', 'uayfy', 'ay'],
  ['C_VerifyInit', 'uMu', ''],
  ['C_Verify', 'uayay', ''],
  ['C_VerifyUpdate', 'uay', ''],
  ['C_VerifyFinal', 'uay', ''],
  ['C_VerifyRecoverInit', 'uMu', ''],
  ['C_VerifyRecover', 'uayfy', 'ay'],
  ['C_DigestEncryptUpdate', 'uayfy', 'ay'],
  ['C_DecryptDigestUpdate', 'uayfy', 'ay'],
  ['C_SignEncryptUpdate', 'uayfy', 'ay'],
  ['C_DecryptVerifyUpdate', 'uayfy', 'ay'],
  ['C_GenerateKey', 'uMaA', 'u'],
  ['C_GenerateKeyPair', 'uMaAaA', 'uu'],
  ['C_WrapKey', 'uMuufy', 'ay'],
  ['C_UnwrapKey', 'uMuayaA', 'u'],
  ['C_DeriveKey', 'uMuaA', 'u'],
  ['C_SeedRandom', 'uay', ''],
  ['C_GenerateRandom', 'ufy', 'ay'],
  ['C_WaitForSlotEvent', 'u', 'u'],
  // PKCS #11 3.0
  ['C_LoginUser', 'uuayay', ''],
  ['C_SessionCancel', 'uu', ''],
  ['C_MessageEncryptInit', 'uMu', ''],
  ['C_EncryptMessage', 'uayayayfy', 'ay'],
  ['C_EncryptMessageBegin', 'uayay', ''],
  ['C_EncryptMessageNext', 'uayayfyu', 'ay'],
  ['C_MessageEncryptFinal', 'u', ''],
  ['C_MessageDecryptInit', 'uMu', ''],
  ['C_DecryptMessage', 'uayayayfy', 'ay'],
  ['C_DecryptMessageBegin', 'uayay', ''],
  ['C_DecryptMessageNext', 'uayayfyu', 'ay'],
  ['C_MessageDecryptFinal', 'u', ''],
  ['C_MessageSignInit', 'uMu', ''],
  ['C_SignMessage', 'uayayfy', 'ay'],
  ['C_SignMessageBegin', 'uay', ''],
  ['C_SignMessageNext', 'uayayyfy', 'ay'],
  ['C_MessageSignFinal', 'u', ''],
  ['C_MessageVerifyInit', 'uMu', ''],
  ['C_VerifyMessage', 'uayayay', ''],
  ['C_VerifyMessageBegin', 'uay', ''],
  ['C_VerifyMessageNext', 'uayayay', ''],
  ['C_MessageVerifyFinal', 'u', ''],
  // Protocol version 1 (p11-kit 0.25)
  ['C_InitToken2', 'uays', '', 1],
];

/** Every call of the highest protocol version, indexed by id. */
export const RPC_CALLS: readonly RpcCall[] = TABLE.map(([name, request, response, since = 0], id) => ({
  id,
  name,
  request,
  response,
  since,
}));

const BY_NAME = new Map(RPC_CALLS.map((call) => [call.name, call]));

/** The call with this id, or undefined for an id protocol version `version` does not have. */
export function rpcCallById(id: number, version: number = RPC_PROTOCOL_VERSION): RpcCall | undefined {
  const call = id > RPC_CALL_ERROR ? RPC_CALLS[id] : undefined;
  return call !== undefined && call.since <= version ? call : undefined;
}

/** The call with this PKCS #11 name (throws for a name that is not in the table: a programming error). */
export function rpcCall(name: string): RpcCall {
  const call = BY_NAME.get(name);
  if (call === undefined) throw new Error(`no RPC call named ${name}`);
  return call;
}
