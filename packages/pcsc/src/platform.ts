/**
 * Where the PC/SC library lives on each platform and how wide its types are. pcsclite on Linux
 * uses `unsigned long` DWORDs and `long` handles (64-bit on x86-64); macOS's PCSC.framework uses 32-bit
 * DWORDs and handles and packs SCARD_READERSTATE; winscard.dll uses 32-bit DWORDs, pointer-sized
 * handles, A/W function names and a 36-byte ATR buffer.
 */

/** The facts about one platform's PC/SC ABI that the bindings need. */
export interface PcscPlatform {
  /** What `process.platform` this describes. */
  readonly name: 'linux' | 'darwin' | 'win32';
  /** Candidate library paths, tried in order. */
  readonly libraryPaths: readonly string[];
  /** The koffi type of a DWORD. */
  readonly dwordType: string;
  /** The koffi type of LONG (the return code). */
  readonly longType: string;
  /** The koffi type of SCARDCONTEXT / SCARDHANDLE. */
  readonly handleType: string;
  /** Suffix of string-taking functions ('A' on Windows, '' elsewhere). */
  readonly stringSuffix: '' | 'A';
  /** True when SCARD_READERSTATE is packed (macOS). */
  readonly packedReaderState: boolean;
  /** Length of SCARD_READERSTATE.rgbAtr. */
  readonly readerStateAtrLength: number;
  /** SCARD_PROTOCOL_RAW. */
  readonly protocolRaw: number;
  /** Turns an IOCTL function number into the control code SCardControl expects (SCARD_CTL_CODE). */
  controlCode(functionNumber: number): number;
  /** What to tell a user when the PC/SC service is not running. */
  readonly serviceHint: string;
}

const LINUX: PcscPlatform = {
  name: 'linux',
  libraryPaths: ['libpcsclite.so.1', 'libpcsclite.so'],
  dwordType: 'unsigned long',
  longType: 'long',
  handleType: 'long',
  stringSuffix: '',
  packedReaderState: false,
  readerStateAtrLength: 33,
  protocolRaw: 0x4,
  controlCode: (functionNumber) => 0x42000000 + functionNumber,
  serviceHint: 'pcscd is not running; start it (e.g. `sudo systemctl start pcscd.socket`) and retry',
};

const DARWIN: PcscPlatform = {
  name: 'darwin',
  libraryPaths: ['/System/Library/Frameworks/PCSC.framework/PCSC'],
  dwordType: 'uint32',
  longType: 'int32',
  handleType: 'int32',
  stringSuffix: '',
  packedReaderState: true,
  readerStateAtrLength: 33,
  protocolRaw: 0x4,
  controlCode: (functionNumber) => 0x42000000 + functionNumber,
  serviceHint: 'the macOS smart card service is not available (is a reader connected?)',
};

const WINDOWS: PcscPlatform = {
  name: 'win32',
  libraryPaths: ['winscard.dll'],
  dwordType: 'uint32',
  longType: 'int32',
  handleType: 'uintptr_t',
  stringSuffix: 'A',
  packedReaderState: false,
  readerStateAtrLength: 36,
  protocolRaw: 0x10000,
  // FILE_DEVICE_SMARTCARD (0x31) << 16 | function << 2 (METHOD_BUFFERED, FILE_ANY_ACCESS)
  controlCode: (functionNumber) => ((0x31 << 16) | (functionNumber << 2)) >>> 0,
  serviceHint: 'the Smart Card service (SCardSvr) is not running; start it and retry',
};

/** The ABI description for `platform` (default: the running one); Linux rules apply to other Unixes. */
export function pcscPlatform(platform: string = process.platform): PcscPlatform {
  if (platform === 'darwin') return DARWIN;
  if (platform === 'win32') return WINDOWS;
  return LINUX;
}
