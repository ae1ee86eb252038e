/**
 * Decoding APDUs for people: the command's name, its header, its data as a TLV tree when it
 * parses as one, and the status word's meaning. Redacted (secret) data is shown as `**`.
 */

import { decodeTlv, describeStatusWord, formatStatusWord, parseCommandApdu, type TlvNode } from '@minidriver/iso7816';
import { toHex } from '@minidriver/spec';

/** Interindustry and common proprietary instruction names (ISO 7816-4, PIV, OpenPGP, GIDS). */
const INSTRUCTION_NAMES: Readonly<Record<number, string>> = {
  32: 'VERIFY',
  36: 'CHANGE REFERENCE DATA',
  42: 'PERFORM SECURITY OPERATION',
  44: 'RESET RETRY COUNTER',
  68: 'ACTIVATE FILE',
  70: 'GENERATE ASYMMETRIC KEY PAIR',
  71: 'GENERATE ASYMMETRIC KEY PAIR',
  132: 'GET CHALLENGE',
  134: 'GENERAL AUTHENTICATE',
  135: 'GENERAL AUTHENTICATE',
  136: 'INTERNAL AUTHENTICATE',
  164: 'SELECT',
  176: 'READ BINARY',
  192: 'GET RESPONSE',
  202: 'GET DATA',
  203: 'GET DATA',
  214: 'UPDATE BINARY',
  218: 'PUT DATA',
  219: 'PUT DATA',
  230: 'TERMINATE DF',
  248: 'GET SERIAL (Yubico)',
  251: 'SET MANAGEMENT KEY (Yubico)',
  253: 'GET VERSION (Yubico)',
  254: 'IMPORT KEY (Yubico)',
  247: 'GET METADATA (Yubico)',
};

/** The name of an instruction byte. */
export function instructionName(ins: number): string {
  return INSTRUCTION_NAMES[ins] ?? `INS ${toHex(Uint8Array.of(ins))}`;
}

function formatTlv(nodes: readonly TlvNode[], indent: string): string[] {
  const lines: string[] = [];
  for (const node of nodes) {
    const tag = node.tag.toString(16).padStart(2, '0');
    if (node.children) {
      lines.push(`${indent}${tag} (${node.value.length})`);
      lines.push(...formatTlv(node.children, `${indent}  `));
    } else {
      const value =
        node.value.length > 32
          ? `${toHex(node.value.subarray(0, 32))}… (${node.value.length} bytes)`
          : toHex(node.value);
      lines.push(`${indent}${tag} (${node.value.length}) ${value}`);
    }
  }
  return lines;
}

/** The data as indented TLV lines, or undefined when it is not BER-TLV. */
export function describeTlv(data: Uint8Array, indent = '    '): string[] | undefined {
  if (data.length < 2) return undefined;
  try {
    const nodes = decodeTlv(data);
    return nodes.length > 0 ? formatTlv(nodes, indent) : undefined;
  } catch {
    return undefined;
  }
}

/** Lines describing a command APDU (`redacted`: its data carried a secret and was zeroed). */
export function describeCommand(command: Uint8Array, redacted: boolean): string[] {
  let parsed: ReturnType<typeof parseCommandApdu>;
  try {
    parsed = parseCommandApdu(command);
  } catch {
    return [`> ${redacted ? `${toHex(command.subarray(0, 4))} **` : toHex(command)}  (malformed APDU)`];
  }
  const header = toHex(command.subarray(0, 4));
  const data = parsed.data ?? new Uint8Array(0);
  const shownData =
    data.length === 0
      ? ''
      : redacted
        ? ' **'
        : ` ${data.length > 48 ? `${toHex(data.subarray(0, 48))}…` : toHex(data)}`;
  const le = parsed.le === undefined ? '' : ` Le=${parsed.le}`;
  const lines = [
    `> ${instructionName(parsed.ins)}  ${header}${data.length ? ` Lc=${data.length}` : ''}${shownData}${le}`,
  ];
  // SELECT by name carries an AID, not TLV.
  const isSelectByName = parsed.ins === 0xa4 && parsed.p1 === 0x04;
  if (!redacted && !isSelectByName && data.length > 0) lines.push(...(describeTlv(data) ?? []));
  return lines;
}

/** Lines describing a response APDU (`redacted`: its data was a secret and was zeroed). */
export function describeResponse(response: Uint8Array, redacted = false): string[] {
  if (response.length < 2) return [`< (${response.length} bytes: no status word)`];
  const statusWord = ((response[response.length - 2] as number) << 8) | (response[response.length - 1] as number);
  const data = response.subarray(0, response.length - 2);
  const shown =
    data.length === 0
      ? ''
      : redacted
        ? ` ${data.length} bytes **`
        : ` ${data.length} bytes ${data.length > 48 ? `${toHex(data.subarray(0, 48))}…` : toHex(data)}`;
  const lines = [`< ${formatStatusWord(statusWord)} ${describeStatusWord(statusWord)}${shown}`];
  if (data.length > 0 && !redacted) lines.push(...(describeTlv(data) ?? []));
  return lines;
}
