/**
 * PC/SC constants (pcsclite's pcsclite.h / reader.h, winscard.h). Values that differ between
 * platforms (SCARD_PROTOCOL_RAW, SCARD_CTL_CODE) are resolved in platform.ts.
 */

/** SCardEstablishContext scopes. */
export const SCARD_SCOPE_USER = 0;
export const SCARD_SCOPE_SYSTEM = 2;

/** SCardConnect share modes. */
export const SCARD_SHARE_EXCLUSIVE = 1;
export const SCARD_SHARE_SHARED = 2;
export const SCARD_SHARE_DIRECT = 3;

/** Protocols (RAW is platform-specific, see platform.ts). */
export const SCARD_PROTOCOL_UNDEFINED = 0;
export const SCARD_PROTOCOL_T0 = 1;
export const SCARD_PROTOCOL_T1 = 2;

/** Dispositions for SCardDisconnect / SCardEndTransaction and initialisations for SCardReconnect. */
export const SCARD_LEAVE_CARD = 0;
export const SCARD_RESET_CARD = 1;
export const SCARD_UNPOWER_CARD = 2;
export const SCARD_EJECT_CARD = 3;

/** SCARD_READERSTATE dwCurrentState / dwEventState bits. */
export const SCARD_STATE_UNAWARE = 0x0000;
export const SCARD_STATE_IGNORE = 0x0001;
export const SCARD_STATE_CHANGED = 0x0002;
export const SCARD_STATE_UNKNOWN = 0x0004;
export const SCARD_STATE_UNAVAILABLE = 0x0008;
export const SCARD_STATE_EMPTY = 0x0010;
export const SCARD_STATE_PRESENT = 0x0020;
export const SCARD_STATE_ATRMATCH = 0x0040;
export const SCARD_STATE_EXCLUSIVE = 0x0080;
export const SCARD_STATE_INUSE = 0x0100;
export const SCARD_STATE_MUTE = 0x0200;
export const SCARD_STATE_UNPOWERED = 0x0400;

/** SCardGetStatusChange timeout meaning "wait forever". */
export const INFINITE = 0xffffffff;

/** The pseudo reader whose state changes when a reader is added or removed. */
export const PNP_NOTIFICATION_READER = '\\\\?PnP?\\Notification';

/** The longest ATR (ISO 7816-3). */
export const MAX_ATR_SIZE = 33;

/** A receive buffer big enough for any extended-length response (65536 data bytes + SW). */
export const MAX_RESPONSE_SIZE = 65538;

/** Frequently used SCardGetAttrib attribute ids (winsmcrd.h / reader.h). */
export const SCARD_ATTR_VENDOR_NAME = 0x00010100;
export const SCARD_ATTR_VENDOR_IFD_TYPE = 0x00010101;
export const SCARD_ATTR_VENDOR_IFD_VERSION = 0x00010102;
export const SCARD_ATTR_VENDOR_IFD_SERIAL_NO = 0x00010103;
export const SCARD_ATTR_CHANNEL_ID = 0x00020110;
export const SCARD_ATTR_MAXINPUT = 0x0007a007;
export const SCARD_ATTR_ICC_PRESENCE = 0x00090300;
export const SCARD_ATTR_ATR_STRING = 0x00090303;
export const SCARD_ATTR_DEVICE_FRIENDLY_NAME_A = 0x7fff0003;
export const SCARD_ATTR_DEVICE_SYSTEM_NAME_A = 0x7fff0004;

/** PC/SC part 10: the IOCTL function number of CM_IOCTL_GET_FEATURE_REQUEST (passed to SCARD_CTL_CODE). */
export const CM_IOCTL_GET_FEATURE_REQUEST_FUNCTION = 3400;

/** PC/SC part 10 feature tags returned by CM_IOCTL_GET_FEATURE_REQUEST. */
export const FEATURE_VERIFY_PIN_START = 0x01;
export const FEATURE_VERIFY_PIN_FINISH = 0x02;
export const FEATURE_MODIFY_PIN_START = 0x03;
export const FEATURE_MODIFY_PIN_FINISH = 0x04;
export const FEATURE_GET_KEY_PRESSED = 0x05;
export const FEATURE_VERIFY_PIN_DIRECT = 0x06;
export const FEATURE_MODIFY_PIN_DIRECT = 0x07;
export const FEATURE_MCT_READER_DIRECT = 0x08;
export const FEATURE_MCT_UNIVERSAL = 0x09;
export const FEATURE_IFD_PIN_PROPERTIES = 0x0a;
export const FEATURE_ABORT = 0x0b;
export const FEATURE_SET_SPE_MESSAGE = 0x0c;
export const FEATURE_VERIFY_PIN_DIRECT_APP_ID = 0x0d;
export const FEATURE_MODIFY_PIN_DIRECT_APP_ID = 0x0e;
export const FEATURE_WRITE_DISPLAY = 0x0f;
export const FEATURE_GET_KEY = 0x10;
export const FEATURE_IFD_DISPLAY_PROPERTIES = 0x11;
export const FEATURE_GET_TLV_PROPERTIES = 0x12;
export const FEATURE_CCID_ESC_COMMAND = 0x13;
