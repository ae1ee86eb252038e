/**
 * The koffi bindings to the platform's PC/SC library. Every function returns the raw LONG as an
 * unsigned number; callers turn failures into ScardError (errors.ts). Calls that can block on the card or
 * on another process (transmit, control, get attribute, status, list readers, begin transaction, get
 * status change, connect, reconnect, disconnect) run on koffi's worker threads so the event loop keeps
 * running. pcscd answers SCardGetAttrib under the reader's driver lock, so a synchronous call waits for
 * any other client's transmit on that reader; and pcsc-lite's client library holds a context's lock for
 * the whole of each call on it, so a synchronous SCardStatus or SCardListReaders waits for a transmit of
 * another card of the same context. When that card is a simulator served by this very process through
 * vpcd, the blocked event loop could never answer it.
 */
import { ScardError } from '@minidriver/spec';
import koffi from 'koffi';
import { MAX_ATR_SIZE } from './constants.js';
import { type PcscPlatform, pcscPlatform } from './platform.js';

/** SCARDCONTEXT / SCARDHANDLE as koffi hands them to us. */
export type NativeHandle = number | bigint;

/** One SCARD_READERSTATE as koffi marshals it. */
export interface NativeReaderState {
  szReader: string;
  pvUserData: null;
  dwCurrentState: number;
  dwEventState: number;
  cbAtr: number;
  rgbAtr: number[];
}

type Callback = (error: unknown, result: number) => void;
interface AsyncFunction {
  (...args: unknown[]): number | bigint;
  async(...args: unknown[]): void;
}

/** The loaded library: every SCard* entry point we use, bound with this platform's types. */
export interface PcscLibrary {
  readonly platform: PcscPlatform;
  establishContext(scope: number, context: NativeHandle[]): number;
  releaseContext(context: NativeHandle): number;
  isValidContext(context: NativeHandle): number;
  cancel(context: NativeHandle): number;
  listReaders(context: NativeHandle, buffer: Buffer | null, length: number[]): Promise<number>;
  getStatusChange(context: NativeHandle, timeout: number, states: NativeReaderState[]): Promise<number>;
  connect(
    context: NativeHandle,
    reader: string,
    share: number,
    protocols: number,
    card: NativeHandle[],
    activeProtocol: number[],
  ): Promise<number>;
  reconnect(
    card: NativeHandle,
    share: number,
    protocols: number,
    initialization: number,
    activeProtocol: number[],
  ): Promise<number>;
  disconnect(card: NativeHandle, disposition: number): Promise<number>;
  beginTransaction(card: NativeHandle): Promise<number>;
  endTransaction(card: NativeHandle, disposition: number): Promise<number>;
  status(
    card: NativeHandle,
    readerName: Buffer | null,
    readerLength: number[],
    state: number[],
    protocol: number[],
    atr: Buffer,
    atrLength: number[],
  ): Promise<number>;
  transmit(
    card: NativeHandle,
    protocol: number,
    command: Uint8Array,
    response: Buffer,
    responseLength: number[],
  ): Promise<number>;
  control(card: NativeHandle, code: number, input: Uint8Array, output: Buffer, returned: number[]): Promise<number>;
  getAttribute(card: NativeHandle, id: number, buffer: Buffer | null, length: number[]): Promise<number>;
}

let loaded: PcscLibrary | undefined;
let typeCounter = 0;

/** Runs a koffi async call and resolves with its unsigned return code. */
function callAsync(fn: AsyncFunction, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const done: Callback = (error, result) => {
      if (error) reject(ScardError.from(error, 'PC/SC call'));
      else resolve(Number(result) >>> 0);
    };
    fn.async(...args, done);
  });
}

const unsigned = (value: number | bigint): number => Number(BigInt.asUintN(32, BigInt(value)));

/**
 * Loads the PC/SC library once. Throws SCARD_E_NO_SERVICE when it is not installed, so "no pcsclite"
 * reads as clearly as "pcscd not running".
 */
export function loadPcscLibrary(platform: PcscPlatform = pcscPlatform()): PcscLibrary {
  if (loaded) return loaded;
  let library: ReturnType<typeof koffi.load> | undefined;
  const failures: string[] = [];
  for (const path of platform.libraryPaths) {
    try {
      library = koffi.load(path);
      break;
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!library) {
    throw new ScardError(
      'SCARD_E_NO_SERVICE',
      `the PC/SC library could not be loaded (${failures.join('; ')}); install pcsc-lite (libpcsclite1) and pcscd`,
    );
  }
  // koffi type names are global; a unique suffix keeps a second load (tests, another platform) legal.
  const suffix = `_${process.pid}_${typeCounter++}`;
  const DWORD = koffi.alias(`PCSC_DWORD${suffix}`, platform.dwordType);
  const LONG = koffi.alias(`PCSC_LONG${suffix}`, platform.longType);
  const HANDLE = koffi.alias(`PCSC_HANDLE${suffix}`, platform.handleType);
  const readerStateFields = {
    szReader: 'const char *',
    pvUserData: 'void *',
    dwCurrentState: DWORD,
    dwEventState: DWORD,
    cbAtr: DWORD,
    rgbAtr: koffi.array('uint8', platform.readerStateAtrLength, 'Array'),
  };
  const READERSTATE = platform.packedReaderState
    ? koffi.pack(`SCARD_READERSTATE${suffix}`, readerStateFields)
    : koffi.struct(`SCARD_READERSTATE${suffix}`, readerStateFields);
  const IO_REQUEST = koffi.struct(`SCARD_IO_REQUEST${suffix}`, { dwProtocol: DWORD, cbPciLength: DWORD });
  const ioRequestSize = koffi.sizeof(IO_REQUEST);
  type TypeSpec = Parameters<typeof koffi.sizeof>[0];
  const pointerTo = (type: TypeSpec) => koffi.pointer(type);
  const s = platform.stringSuffix;
  const bind = (name: string, args: unknown[]) =>
    library.func(name, LONG, args as TypeSpec[]) as unknown as AsyncFunction;

  const SCardEstablishContext = bind('SCardEstablishContext', [
    DWORD,
    'void *',
    'void *',
    koffi.out(pointerTo(HANDLE)),
  ]);
  const SCardReleaseContext = bind('SCardReleaseContext', [HANDLE]);
  const SCardIsValidContext = bind('SCardIsValidContext', [HANDLE]);
  const SCardCancel = bind('SCardCancel', [HANDLE]);
  const SCardListReaders = bind(`SCardListReaders${s}`, [
    HANDLE,
    'const char *',
    'void *',
    koffi.inout(pointerTo(DWORD)),
  ]);
  const SCardGetStatusChange = bind(`SCardGetStatusChange${s}`, [
    HANDLE,
    DWORD,
    koffi.inout(pointerTo(READERSTATE)),
    DWORD,
  ]);
  const SCardConnect = bind(`SCardConnect${s}`, [
    HANDLE,
    'const char *',
    DWORD,
    DWORD,
    koffi.out(pointerTo(HANDLE)),
    koffi.out(pointerTo(DWORD)),
  ]);
  const SCardReconnect = bind('SCardReconnect', [HANDLE, DWORD, DWORD, DWORD, koffi.out(pointerTo(DWORD))]);
  const SCardDisconnect = bind('SCardDisconnect', [HANDLE, DWORD]);
  const SCardBeginTransaction = bind('SCardBeginTransaction', [HANDLE]);
  const SCardEndTransaction = bind('SCardEndTransaction', [HANDLE, DWORD]);
  const SCardStatus = bind(`SCardStatus${s}`, [
    HANDLE,
    'void *',
    koffi.inout(pointerTo(DWORD)),
    koffi.out(pointerTo(DWORD)),
    koffi.out(pointerTo(DWORD)),
    'void *',
    koffi.inout(pointerTo(DWORD)),
  ]);
  const SCardTransmit = bind('SCardTransmit', [
    HANDLE,
    pointerTo(IO_REQUEST),
    'const void *',
    DWORD,
    'void *',
    'void *',
    koffi.inout(pointerTo(DWORD)),
  ]);
  // Windows: SCardControl(hCard, dwControlCode, lpInBuffer, cbInBufferSize, lpOutBuffer, cbOutBufferSize, lpBytesReturned)
  // pcsclite has the same order since 1.4 (SCardControl132).
  const SCardControl = bind('SCardControl', [
    HANDLE,
    DWORD,
    'const void *',
    DWORD,
    'void *',
    DWORD,
    koffi.out(pointerTo(DWORD)),
  ]);
  const SCardGetAttrib = bind('SCardGetAttrib', [HANDLE, DWORD, 'void *', koffi.inout(pointerTo(DWORD))]);

  const sync = (fn: AsyncFunction, ...args: unknown[]): number => unsigned(fn(...args));

  loaded = {
    platform,
    establishContext: (scope, context) => sync(SCardEstablishContext, scope, null, null, context),
    releaseContext: (context) => sync(SCardReleaseContext, context),
    isValidContext: (context) => sync(SCardIsValidContext, context),
    cancel: (context) => sync(SCardCancel, context),
    listReaders: (context, buffer, length) => callAsync(SCardListReaders, context, null, buffer, length),
    getStatusChange: (context, timeout, states) =>
      callAsync(SCardGetStatusChange, context, timeout, states, states.length),
    connect: (context, reader, share, protocols, card, activeProtocol) =>
      callAsync(SCardConnect, context, reader, share, protocols, card, activeProtocol),
    reconnect: (card, share, protocols, initialization, activeProtocol) =>
      callAsync(SCardReconnect, card, share, protocols, initialization, activeProtocol),
    disconnect: (card, disposition) => callAsync(SCardDisconnect, card, disposition),
    beginTransaction: (card) => callAsync(SCardBeginTransaction, card),
    endTransaction: (card, disposition) => callAsync(SCardEndTransaction, card, disposition),
    status: (card, readerName, readerLength, state, protocol, atr, atrLength) =>
      callAsync(SCardStatus, card, readerName, readerLength, state, protocol, atr, atrLength),
    transmit: (card, protocol, command, response, responseLength) =>
      callAsync(
        SCardTransmit,
        card,
        { dwProtocol: protocol, cbPciLength: ioRequestSize },
        command,
        command.length,
        null,
        response,
        responseLength,
      ),
    control: (card, code, input, output, returned) =>
      callAsync(
        SCardControl,
        card,
        code,
        input.length === 0 ? null : input,
        input.length,
        output,
        output.length,
        returned,
      ),
    getAttribute: (card, id, buffer, length) => callAsync(SCardGetAttrib, card, id, buffer, length),
  };
  return loaded;
}

/** A fresh SCARD_READERSTATE asking about `reader`, given the state the caller last saw. */
export function readerStateFor(reader: string, currentState: number, platform: PcscPlatform): NativeReaderState {
  return {
    szReader: reader,
    pvUserData: null,
    dwCurrentState: currentState,
    dwEventState: 0,
    cbAtr: 0,
    rgbAtr: new Array<number>(platform.readerStateAtrLength).fill(0),
  };
}

/** The ATR bytes a SCARD_READERSTATE reports. */
export function readerStateAtr(state: NativeReaderState): Uint8Array {
  const length = Math.min(Number(state.cbAtr), MAX_ATR_SIZE, state.rgbAtr.length);
  return Uint8Array.from(state.rgbAtr.slice(0, length));
}
