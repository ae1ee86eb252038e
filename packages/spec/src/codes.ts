/**
 * Every return code the minidriver specification and PC/SC use (winerror.h values), by name.
 * Values are unsigned 32-bit DWORDs.
 */
export const ScardCode = {
  /** success */
  SCARD_S_SUCCESS: 0x00000000,
  /** internal consistency failure */
  SCARD_F_INTERNAL_ERROR: 0x80100001,
  SCARD_E_CANCELLED: 0x80100002,
  /** hScard/hSCardCtx zero/invalid in CardAcquireContext [O] */
  SCARD_E_INVALID_HANDLE: 0x80100003,
  /** any bad argument / flag / unknown property */
  SCARD_E_INVALID_PARAMETER: 0x80100004,
  SCARD_E_INVALID_TARGET: 0x80100005,
  /** allocation failed; card out of space for a directory */
  SCARD_E_NO_MEMORY: 0x80100006,
  SCARD_F_WAITED_TOO_LONG: 0x80100007,
  /** decrypt input shorter than modulus; used by some for property buffers [O] */
  SCARD_E_INSUFFICIENT_BUFFER: 0x80100008,
  SCARD_E_UNKNOWN_READER: 0x80100009,
  SCARD_E_TIMEOUT: 0x8010000a,
  SCARD_E_SHARING_VIOLATION: 0x8010000b,
  SCARD_E_NO_SMARTCARD: 0x8010000c,
  /** CardAcquireContext: ATR not recognised by this minidriver */
  SCARD_E_UNKNOWN_CARD: 0x8010000d,
  SCARD_E_CANT_DISPOSE: 0x8010000e,
  SCARD_E_PROTO_MISMATCH: 0x8010000f,
  SCARD_E_NOT_READY: 0x80100010,
  SCARD_E_INVALID_VALUE: 0x80100011,
  SCARD_E_SYSTEM_CANCELLED: 0x80100012,
  SCARD_F_COMM_ERROR: 0x80100013,
  SCARD_F_UNKNOWN_ERROR: 0x80100014,
  SCARD_E_INVALID_ATR: 0x80100015,
  SCARD_E_NOT_TRANSACTED: 0x80100016,
  SCARD_E_READER_UNAVAILABLE: 0x80100017,
  SCARD_P_SHUTDOWN: 0x80100018,
  SCARD_E_PCI_TOO_SMALL: 0x80100019,
  SCARD_E_READER_UNSUPPORTED: 0x8010001a,
  SCARD_E_DUPLICATE_READER: 0x8010001b,
  SCARD_E_CARD_UNSUPPORTED: 0x8010001c,
  SCARD_E_NO_SERVICE: 0x8010001d,
  SCARD_E_SERVICE_STOPPED: 0x8010001e,
  /** generic failure (spec convention) */
  SCARD_E_UNEXPECTED: 0x8010001f,
  SCARD_E_ICC_INSTALLATION: 0x80100020,
  SCARD_E_ICC_CREATEORDER: 0x80100021,
  /** optional entry point / property / key spec not supported */
  SCARD_E_UNSUPPORTED_FEATURE: 0x80100022,
  /** directory does not exist */
  SCARD_E_DIR_NOT_FOUND: 0x80100023,
  /** file does not exist (only for true non-existence) */
  SCARD_E_FILE_NOT_FOUND: 0x80100024,
  SCARD_E_NO_DIR: 0x80100025,
  SCARD_E_NO_FILE: 0x80100026,
  SCARD_E_NO_ACCESS: 0x80100027,
  /** card out of space while writing/growing a file */
  SCARD_E_WRITE_TOO_MANY: 0x80100028,
  SCARD_E_BAD_SEEK: 0x80100029,
  /** PIN format invalid (e.g. PIN pad mismatch) */
  SCARD_E_INVALID_CHV: 0x8010002a,
  SCARD_E_UNKNOWN_RES_MNG: 0x8010002b,
  SCARD_E_NO_SUCH_CERTIFICATE: 0x8010002c,
  SCARD_E_CERTIFICATE_UNAVAILABLE: 0x8010002d,
  SCARD_E_NO_READERS_AVAILABLE: 0x8010002e,
  /** file exists but could not be read (I/O or corruption) */
  SCARD_E_COMM_DATA_LOST: 0x8010002f,
  /** container index empty/out of range */
  SCARD_E_NO_KEY_CONTAINER: 0x80100030,
  SCARD_E_SERVER_TOO_BUSY: 0x80100031,
  /** caller-side */
  SCARD_E_PIN_CACHE_EXPIRED: 0x80100032,
  /** caller-side */
  SCARD_E_NO_PIN_CACHE: 0x80100033,
  /** caller-side (write attempted on read-only card) */
  SCARD_E_READ_ONLY_CARD: 0x80100034,
  SCARD_W_UNSUPPORTED_CARD: 0x80100065,
  SCARD_W_UNRESPONSIVE_CARD: 0x80100066,
  SCARD_W_UNPOWERED_CARD: 0x80100067,
  /** propagate so caller reconnects */
  SCARD_W_RESET_CARD: 0x80100068,
  /** propagate */
  SCARD_W_REMOVED_CARD: 0x80100069,
  /** operation requires authentication / forbidden by AC */
  SCARD_W_SECURITY_VIOLATION: 0x8010006a,
  /** wrong PIN / wrong response */
  SCARD_W_WRONG_CHV: 0x8010006b,
  /** PIN/key blocked (no tries left) */
  SCARD_W_CHV_BLOCKED: 0x8010006c,
  SCARD_W_EOF: 0x8010006d,
  /** user cancelled PIN pad / UI */
  SCARD_W_CANCELLED_BY_USER: 0x8010006e,
  SCARD_W_CARD_NOT_AUTHENTICATED: 0x8010006f,
  /** (SCardReadCache) */
  SCARD_W_CACHE_ITEM_NOT_FOUND: 0x80100070,
  /** (SCardReadCache) */
  SCARD_W_CACHE_ITEM_STALE: 0x80100071,
  /** (SCardWriteCache) */
  SCARD_W_CACHE_ITEM_TOO_BIG: 0x80100072,
  /** allocation failure (SCARD_E_NO_MEMORY preferred) */
  ERROR_NOT_ENOUGH_MEMORY: 0x8,
  ERROR_OUTOFMEMORY: 0xe,
  ERROR_NOT_SUPPORTED: 0x32,
  /** CardCreateDirectory, CardCreateFile — note: one legacy MSDN page prints "128 (0x80)", which is wrong */
  ERROR_FILE_EXISTS: 0x50,
  /** do not use; use SCARD_E_INVALID_PARAMETER */
  ERROR_INVALID_PARAMETER: 0x57,
  ERROR_CALL_NOT_IMPLEMENTED: 0x78,
  /** property getters when cbData too small */
  ERROR_INSUFFICIENT_BUFFER: 0x7a,
  /** CardDeleteDirectory */
  ERROR_DIR_NOT_EMPTY: 0x91,
  /** version negotiation failures */
  ERROR_REVISION_MISMATCH: 0x51a,
  ERROR_INTERNAL_ERROR: 0x54f,
  ERROR_TIMEOUT: 0x5b4,
  NTE_BAD_KEY: 0x80090003,
  NTE_BAD_DATA: 0x80090005,
  NTE_BAD_FLAGS: 0x80090009,
  NTE_NO_MEMORY: 0x8009000e,
  NTE_BUFFER_TOO_SMALL: 0x80090028,
  NTE_NOT_SUPPORTED: 0x80090029,
} as const;

/** A name from {@link ScardCode}. */
export type ScardCodeName = keyof typeof ScardCode;
