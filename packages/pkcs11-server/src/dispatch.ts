/**
 * @packageDocumentation
 * The call dispatch table: for each RPC call this server implements, read the request's arguments in
 * signature order, run the PKCS #11 function on the client's {@link Pkcs11Application}, and write the
 * response. A failure becomes the error reply with its CK_RV; calls without a handler answer
 * CKR_FUNCTION_NOT_SUPPORTED (their arguments are not even read).
 */

import type { Pkcs11Application } from './module/application.js';
import { CKR } from './pkcs11/constants.js';
import { check, ckrFromError, Pkcs11Error } from './pkcs11/errors.js';
import { nativeLength, writeAttribute, writeAttributeLength } from './rpc/attributes.js';
import { RPC_HANDSHAKE, RPC_PROTOCOL_VERSION } from './rpc/calls.js';
import { RpcRequest, RpcResponse } from './rpc/message.js';
import { RpcProtocolError } from './rpc/wire.js';

/** What the server says about itself in C_GetInfo. */
export const LIBRARY_INFO = {
  cryptokiVersion: [2, 40] as const,
  manufacturer: 'minidriver',
  description: 'minidriver p11-kit server',
  libraryVersion: [0, 1] as const,
};

type Handler = (request: RpcRequest, app: Pkcs11Application) => Promise<RpcResponse> | RpcResponse;

const empty = (request: RpcRequest) => new RpcResponse(request.callId);

/** Reads the whole request, then checks nothing is left over (a trailing byte is a malformed message). */
function args<T>(request: RpcRequest, read: () => T): T {
  const value = read();
  request.end();
  return value;
}

function byteResult(request: RpcRequest, result: { output?: Uint8Array; length: number }): RpcResponse {
  return empty(request).byteArray(result.output ?? null, result.length);
}

/**
 * C_InitToken (and version 1's C_InitToken2): re-initializing a card (wiping its keys, setting a new SO PIN)
 * is not something the keystore offers for any card: CKR_FUNCTION_NOT_SUPPORTED. The SO PIN sent is wiped.
 */
function initToken(request: RpcRequest, label: () => Uint8Array): never {
  const pin = args(request, () => {
    request.ulong();
    const value = request.byteArray();
    label();
    return value;
  });
  pin.data?.fill(0);
  throw new Pkcs11Error(CKR.FUNCTION_NOT_SUPPORTED, 'cards are not re-initialized through PKCS #11');
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  C_Initialize(request, app) {
    const handshake = args(request, () => {
      const value = request.byteArray();
      request.byte();
      request.byteArray();
      return value.data;
    });
    check(handshake !== null && Buffer.from(handshake).equals(RPC_HANDSHAKE), CKR.GENERAL_ERROR, 'wrong handshake');
    app.initialize();
    return empty(request);
  },
  async C_Finalize(request, app) {
    args(request, () => undefined);
    await app.finalize();
    return empty(request);
  },
  C_GetInfo(request) {
    args(request, () => undefined);
    return empty(request)
      .version(...LIBRARY_INFO.cryptokiVersion)
      .spaceString(LIBRARY_INFO.manufacturer, 32)
      .ulong(0)
      .spaceString(LIBRARY_INFO.description, 32)
      .version(...LIBRARY_INFO.libraryVersion);
  },
  C_GetSlotList(request, app) {
    const [present, capacity] = args(request, () => [request.byte(), request.ulongBuffer()] as const);
    const slots = app.slotList(present !== 0);
    if (capacity === 0) return empty(request).ulongArray(null, slots.length);
    check(capacity >= slots.length, CKR.BUFFER_TOO_SMALL);
    return empty(request).ulongArray(slots);
  },
  C_GetSlotInfo(request, app) {
    const slotId = args(request, () => request.ulong());
    const info = app.slotInfo(slotId);
    return empty(request)
      .spaceString(info.description, 64)
      .spaceString(LIBRARY_INFO.manufacturer, 32)
      .ulong(info.flags)
      .version(0, 0)
      .version(0, 0);
  },
  async C_GetTokenInfo(request, app) {
    const slotId = args(request, () => request.ulong());
    const info = await app.tokenInfo(slotId);
    const unavailable = -1;
    return empty(request)
      .spaceString(info.label, 32)
      .spaceString(info.manufacturer, 32)
      .spaceString(info.model, 16)
      .spaceString(info.serial, 16)
      .ulong(info.flags)
      .ulong(info.maxSessions)
      .ulong(info.sessions)
      .ulong(info.maxSessions)
      .ulong(info.rwSessions)
      .ulong(info.maxPin)
      .ulong(info.minPin)
      .ulong(unavailable)
      .ulong(unavailable)
      .ulong(unavailable)
      .ulong(unavailable)
      .version(0, 0)
      .version(0, 0)
      .spaceString('', 16);
  },
  async C_GetMechanismList(request, app) {
    const [slotId, capacity] = args(request, () => [request.ulong(), request.ulongBuffer()] as const);
    const list = await app.mechanismList(slotId);
    if (capacity === 0) return empty(request).ulongArray(null, list.length);
    check(capacity >= list.length, CKR.BUFFER_TOO_SMALL);
    return empty(request).ulongArray(list);
  },
  async C_GetMechanismInfo(request, app) {
    const [slotId, mechanism] = args(request, () => [request.ulong(), request.ulong()] as const);
    const info = await app.mechanismInfo(slotId, mechanism);
    return empty(request).ulong(info.min).ulong(info.max).ulong(info.flags);
  },
  C_OpenSession(request, app) {
    const [slotId, flags] = args(request, () => [request.ulong(), request.ulong()] as const);
    return empty(request).ulong(app.openSession(slotId, flags));
  },
  async C_CloseSession(request, app) {
    await app.closeSession(args(request, () => request.ulong()));
    return empty(request);
  },
  async C_CloseAllSessions(request, app) {
    await app.closeAllSessions(args(request, () => request.ulong()));
    return empty(request);
  },
  C_GetSessionInfo(request, app) {
    const info = app.sessionInfo(args(request, () => request.ulong()));
    return empty(request).ulong(info.slotId).ulong(info.state).ulong(info.flags).ulong(0);
  },
  async C_Login(request, app) {
    const [session, userType, pin] = args(
      request,
      () => [request.ulong(), request.ulong(), request.byteArray()] as const,
    );
    await app.login(session, userType, pin.data);
    return empty(request);
  },
  async C_InitPIN(request, app) {
    const [session, pin] = args(request, () => [request.ulong(), request.byteArray()] as const);
    await app.initPin(session, pin.data);
    return empty(request);
  },
  C_InitToken(request) {
    return initToken(request, () => request.zeroString());
  },
  C_InitToken2(request) {
    return initToken(request, () => request.spaceString());
  },
  async C_WaitForSlotEvent(request, app) {
    const flags = args(request, () => request.ulong());
    return empty(request).ulong(await app.waitForSlotEvent(flags));
  },
  async C_SetPIN(request, app) {
    const [session, oldPin, newPin] = args(
      request,
      () => [request.ulong(), request.byteArray(), request.byteArray()] as const,
    );
    await app.setPin(session, oldPin.data, newPin.data);
    return empty(request);
  },
  async C_Logout(request, app) {
    await app.logout(args(request, () => request.ulong()));
    return empty(request);
  },
  async C_CreateObject(request, app) {
    const [session, template] = args(request, () => [request.ulong(), request.attributeArray()] as const);
    return empty(request).ulong(await app.createObject(session, template));
  },
  async C_DestroyObject(request, app) {
    const [session, object] = args(request, () => [request.ulong(), request.ulong()] as const);
    await app.destroyObject(session, object);
    return empty(request);
  },
  async C_GetObjectSize(request, app) {
    const [session, object] = args(request, () => [request.ulong(), request.ulong()] as const);
    return empty(request).ulong(await app.objectSize(session, object));
  },
  async C_GetAttributeValue(request, app) {
    const [session, object, wanted] = args(
      request,
      () => [request.ulong(), request.ulong(), request.attributeBuffer()] as const,
    );
    const values = await app.attributes(
      session,
      object,
      wanted.map((entry) => entry.type),
    );
    let rv: number = CKR.OK;
    const response = empty(request).attributeEntries(wanted.length, (writer, index) => {
      const { type, capacity } = wanted[index] as { type: number; capacity: number };
      const value = values[index];
      if (value === undefined || value === 'sensitive') {
        if (rv === CKR.OK) rv = value === undefined ? CKR.ATTRIBUTE_TYPE_INVALID : CKR.ATTRIBUTE_SENSITIVE;
        writeAttribute(writer, { type, value: undefined });
        return;
      }
      const length = nativeLength(type, value);
      if (capacity === 0) {
        writeAttributeLength(writer, type, length);
      } else if (capacity < length) {
        if (rv === CKR.OK) rv = CKR.BUFFER_TOO_SMALL;
        writeAttribute(writer, { type, value: undefined });
      } else {
        writeAttribute(writer, { type, value });
      }
    });
    return response.ulong(rv);
  },
  async C_FindObjectsInit(request, app) {
    const [session, template] = args(request, () => [request.ulong(), request.attributeArray()] as const);
    await app.findObjectsInit(session, template);
    return empty(request);
  },
  C_FindObjects(request, app) {
    const [session, max] = args(request, () => [request.ulong(), request.ulongBuffer()] as const);
    return empty(request).ulongArray(app.findObjects(session, max));
  },
  C_FindObjectsFinal(request, app) {
    app.findObjectsFinal(args(request, () => request.ulong()));
    return empty(request);
  },
  async C_SignInit(request, app) {
    const [session, mechanism, key] = args(
      request,
      () => [request.ulong(), request.mechanism(), request.ulong()] as const,
    );
    await app.operationInit('sign', session, mechanism, key);
    return empty(request);
  },
  async C_Sign(request, app) {
    const [session, data, capacity] = args(
      request,
      () => [request.ulong(), request.byteArray(), request.byteBuffer()] as const,
    );
    check(data.data !== null, CKR.ARGUMENTS_BAD);
    return byteResult(request, await app.finish('sign', session, data.data, capacity));
  },
  C_SignUpdate(request, app) {
    const [session, data] = args(request, () => [request.ulong(), request.byteArray()] as const);
    check(data.data !== null, CKR.ARGUMENTS_BAD);
    app.update('sign', session, data.data);
    return empty(request);
  },
  async C_SignFinal(request, app) {
    const [session, capacity] = args(request, () => [request.ulong(), request.byteBuffer()] as const);
    return byteResult(request, await app.finish('sign', session, undefined, capacity));
  },
  async C_DecryptInit(request, app) {
    const [session, mechanism, key] = args(
      request,
      () => [request.ulong(), request.mechanism(), request.ulong()] as const,
    );
    await app.operationInit('decrypt', session, mechanism, key);
    return empty(request);
  },
  async C_Decrypt(request, app) {
    const [session, data, capacity] = args(
      request,
      () => [request.ulong(), request.byteArray(), request.byteBuffer()] as const,
    );
    check(data.data !== null, CKR.ARGUMENTS_BAD);
    return byteResult(request, await app.finish('decrypt', session, data.data, capacity));
  },
  async C_DecryptFinal(request, app) {
    const [session, capacity] = args(request, () => [request.ulong(), request.byteBuffer()] as const);
    return byteResult(request, await app.finish('decrypt', session, undefined, capacity));
  },
  async C_GenerateKeyPair(request, app) {
    const [session, mechanism, publicTemplate, privateTemplate] = args(
      request,
      () => [request.ulong(), request.mechanism(), request.attributeArray(), request.attributeArray()] as const,
    );
    const [publicKey, privateKey] = await app.generateKeyPair(session, mechanism, publicTemplate, privateTemplate);
    return empty(request).ulong(publicKey).ulong(privateKey);
  },
  async C_DeriveKey(request, app) {
    const [session, mechanism, baseKey, template] = args(
      request,
      () => [request.ulong(), request.mechanism(), request.ulong(), request.attributeArray()] as const,
    );
    return empty(request).ulong(await app.deriveKey(session, mechanism, baseKey, template));
  },
};

/**
 * Handles one request body of protocol `version` and returns the response body. Never throws for anything
 * the client sent: a malformed message answers CKR_DEVICE_ERROR (as p11-kit's own server does), a PKCS #11
 * failure its CK_RV, a call the version does not have CKR_FUNCTION_NOT_SUPPORTED.
 */
export async function dispatch(
  body: Uint8Array,
  app: Pkcs11Application,
  trace?: CallTrace,
  version: number = RPC_PROTOCOL_VERSION,
): Promise<Uint8Array> {
  let request: RpcRequest;
  try {
    request = new RpcRequest(body, version);
  } catch (error) {
    if (error instanceof RpcProtocolError) {
      trace?.('malformed', CKR.DEVICE_ERROR, error);
      return RpcResponse.error(CKR.DEVICE_ERROR);
    }
    throw error;
  }
  const name = request.call?.name ?? `call ${request.callId}`;
  const handler = request.call === undefined ? undefined : HANDLERS[request.call.name];
  if (handler === undefined) {
    trace?.(name, CKR.FUNCTION_NOT_SUPPORTED);
    return RpcResponse.error(CKR.FUNCTION_NOT_SUPPORTED);
  }
  try {
    const reply = (await handler(request, app)).finish();
    trace?.(name, CKR.OK);
    return reply;
  } catch (error) {
    const rv = error instanceof RpcProtocolError ? CKR.DEVICE_ERROR : ckrFromError(error);
    trace?.(name, rv, error);
    return RpcResponse.error(rv);
  }
}

/**
 * Sees every call a client makes: its PKCS #11 name, the CK_RV answered, and the error behind a failure.
 * Never the arguments (a PIN is an argument); error messages of this stack never hold a PIN either. The
 * protocol version agreed with a client is traced too, as `RPC protocol version <n>` with CK_RV 0.
 */
export type CallTrace = (call: string, rv: number, error?: unknown) => void;
