/**
 * OpenSC's PKCS #11 module driven through its command-line client, pkcs11-tool, for interop suites: the
 * slot of a reader, and a private-key operation (sign or decrypt) with the key of a given ID.
 *
 * @packageDocumentation
 */
import { runTool, type ToolRun } from './run-tool.js';

/** Where Debian's opensc-pkcs11 package installs OpenSC's PKCS #11 module (pkcs11-tool's default module). */
export const OPENSC_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * The pkcs11-tool slot index of the card in `reader`, asked up to `attempts` times 500 ms apart: OpenSC
 * probes every reader, and while another reader changes state its slot list can briefly miss this one.
 * Throws with the last listing when the reader never shows up.
 */
export async function pkcs11SlotIndex(reader: string, attempts = 20): Promise<string> {
  const escaped = reader.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const slotLine = new RegExp(`Slot (\\d+) \\(0x[0-9a-f]+\\): ${escaped}`);
  let listing: ToolRun | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await pause(500);
    listing = await runTool('pkcs11-tool', ['--module', OPENSC_PKCS11_MODULE, '--list-slots']);
    const index = slotLine.exec(listing.output)?.[1];
    if (index !== undefined) return index;
  }
  throw new Error(`pkcs11-tool lists no slot for ${reader}: ${listing?.output}`);
}

/** A private-key operation for {@link pkcs11ToolKeyOperation}. */
export interface Pkcs11KeyOperation {
  /** How pkcs11-tool picks the token: `['--slot-index', index]`, `['--token-label', label]` ... */
  readonly token: readonly string[];
  readonly pin: string;
  readonly operation: 'sign' | 'decrypt';
  /** pkcs11-tool's mechanism name: SHA256-RSA-PKCS, ECDSA-SHA256, RSA-PKCS ... */
  readonly mechanism: string;
  /** The key's CKA_ID, hex. */
  readonly id: string;
  readonly inputPath: string;
  readonly outputPath: string;
}

/**
 * `pkcs11-tool --login --pin … --sign|--decrypt` with OpenSC's module: signs or decrypts the file at
 * `inputPath` with the key `id` into `outputPath`.
 */
export function pkcs11ToolKeyOperation(request: Pkcs11KeyOperation): Promise<ToolRun> {
  return runTool('pkcs11-tool', [
    ...['--module', OPENSC_PKCS11_MODULE, ...request.token, '--login', '--pin', request.pin],
    ...[`--${request.operation}`, '--mechanism', request.mechanism, '--id', request.id],
    ...['--input-file', request.inputPath, '--output-file', request.outputPath],
  ]);
}
