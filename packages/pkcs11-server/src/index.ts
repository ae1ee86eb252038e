/**
 * @packageDocumentation
 * `@minidriver/pkcs11-server`: a p11-kit RPC server over `@minidriver/keystore`, so every PKCS #11
 * application (OpenSSH, OpenSSL, GnuTLS, NSS, pkcs11-tool ...) uses the cards through p11-kit's
 * `p11-kit-client.so`.
 */
export { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection.js';
export type { CallTrace } from './dispatch.js';
export { type ApplicationLimits, DEFAULT_APPLICATION_LIMITS } from './module/application.js';
export { KeyStoreSource, type Reader, type TokenSource } from './module/token-source.js';
export { CKR } from './pkcs11/constants.js';
export { ckrFromError, ckrName, Pkcs11Error, SCARD_TO_CKR } from './pkcs11/errors.js';
export { RPC_CALLS, RPC_PROTOCOL_VERSION, type RpcCall } from './rpc/calls.js';
export { DEFAULT_FRAME_LIMITS, type FrameLimits } from './rpc/framing.js';
export { defaultSocketPath, exportLine, Pkcs11Server, type Pkcs11ServerOptions } from './server.js';
