/**
 * BER-TLV as ISO 7816-4 §5.2 uses it (docs/spec/iso7816.md §5): multi-byte tags, definite lengths in
 * short and long form, constructed nesting, lookup by tag path.
 *
 * Malformed input (truncated value, bad tag, indefinite or over-long length, trailing garbage in
 * {@link decodeTlvOne}) throws `ScardError` SCARD_E_INVALID_PARAMETER by default — the right code for a
 * simulator parsing command data (it answers 6A80). A plugin parsing a card's *response* should pass
 * `malformedError: 'SCARD_E_COMM_DATA_LOST'` (design.md: unreadable data that exists).
 */
import { concatBytes, type ScardCodeName, ScardError } from '@minidriver/spec';

/** One decoded BER-TLV data object. */
export interface TlvNode {
  /** The tag bytes as a big-endian integer: 0x5C, 0x7F49, 0x5FC105. */
  readonly tag: number;
  /** Bit b6 (0x20) of the first tag byte. */
  readonly constructed: boolean;
  /** The value field (a copy). For constructed objects: the encoded children. */
  readonly value: Uint8Array;
  /** Present iff the object is constructed and its value parsed as BER-TLV. */
  readonly children?: TlvNode[];
}

/** Options for {@link decodeTlv}. */
export interface DecodeTlvOptions {
  /** Parse the value of constructed objects into `children` (default true). */
  readonly parseConstructed?: boolean;
  /** Skip `00`/`FF` padding bytes between objects, as ISO allows (default false: strict). */
  readonly skipPadding?: boolean;
  /** The ScardError code for malformed input (default SCARD_E_INVALID_PARAMETER). */
  readonly malformedError?: ScardCodeName;
}

/** Longest tag accepted, in bytes (so a tag fits a JS number exactly). */
const MAX_TAG_BYTES = 4;
/** Deeper constructed objects keep their raw value without `children` (guards the stack). */
const MAX_DEPTH = 32;

function malformed(code: ScardCodeName, message: string): ScardError {
  return new ScardError(code, `malformed BER-TLV: ${message}`);
}

/**
 * Reads a BER definite length at `offset`. Accepts non-minimal long forms (`81 05`), which real
 * cards send; rejects indefinite (`80`) and forms above `84`.
 */
export function decodeLength(
  bytes: Uint8Array,
  offset: number,
  malformedError: ScardCodeName = 'SCARD_E_INVALID_PARAMETER',
): { length: number; headerLength: number } {
  const first = bytes[offset];
  if (first === undefined) throw malformed(malformedError, `length missing at offset ${offset}`);
  if (first < 0x80) return { length: first, headerLength: 1 };
  if (first === 0x80) throw malformed(malformedError, 'indefinite length is not allowed');
  const count = first & 0x7f;
  if (count > 4) throw malformed(malformedError, `length field of ${count} bytes is not supported`);
  if (offset + 1 + count > bytes.length) throw malformed(malformedError, 'length field truncated');
  let length = 0;
  for (let index = 1; index <= count; index++) length = length * 256 + (bytes[offset + index] as number);
  return { length, headerLength: 1 + count };
}

/** Minimal (DER-style) BER length: `< 0x80` one byte, else `81 xx`, `82 xx xx`, `83 …`, `84 …`. */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `TLV length out of range: ${length}`);
  }
  if (length < 0x80) return Uint8Array.of(length);
  const digits: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return Uint8Array.of(0x80 | digits.length, ...digits);
}

/** Reads the tag at `offset`; returns its numeric value and byte count. */
function decodeTag(bytes: Uint8Array, offset: number, code: ScardCodeName): { tag: number; tagLength: number } {
  const first = bytes[offset] as number;
  let tag = first;
  let tagLength = 1;
  if ((first & 0x1f) === 0x1f) {
    // Subsequent bytes: b8 = 1 means another byte follows.
    for (;;) {
      const next = bytes[offset + tagLength];
      if (next === undefined) throw malformed(code, `tag truncated at offset ${offset}`);
      tag = tag * 256 + next;
      tagLength++;
      if ((next & 0x80) === 0) break;
      if (tagLength >= MAX_TAG_BYTES)
        throw malformed(code, `tag longer than ${MAX_TAG_BYTES} bytes at offset ${offset}`);
    }
  }
  return { tag, tagLength };
}

/**
 * The bytes of a tag given as a number (`0x5FC105` → `5F C1 05`). Throws SCARD_E_INVALID_PARAMETER
 * when the bytes do not form a valid BER tag (e.g. `0x1F` alone, or `0x5F41` whose first byte says
 * "one more byte" but whose value has more).
 */
export function tagBytes(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `TLV tag out of range: ${tag}`);
  }
  const digits: number[] = [];
  for (let rest = tag; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  if (digits.length === 0) digits.push(0);
  const valid =
    digits.length === 1
      ? ((digits[0] as number) & 0x1f) !== 0x1f
      : ((digits[0] as number) & 0x1f) === 0x1f &&
        digits.slice(1, -1).every((digit) => (digit & 0x80) !== 0) &&
        ((digits[digits.length - 1] as number) & 0x80) === 0;
  if (!valid) throw new ScardError('SCARD_E_INVALID_PARAMETER', `not a valid BER-TLV tag: 0x${tag.toString(16)}`);
  return Uint8Array.from(digits);
}

/** True when the tag's first byte has the constructed bit (0x20). */
export function isConstructedTag(tag: number): boolean {
  const first = tagBytes(tag)[0] as number;
  return (first & 0x20) !== 0;
}

function decodeLevel(
  bytes: Uint8Array,
  options: Required<Pick<DecodeTlvOptions, 'parseConstructed' | 'skipPadding' | 'malformedError'>>,
  depth: number,
): TlvNode[] {
  const nodes: TlvNode[] = [];
  let offset = 0;
  const code = options.malformedError;
  while (offset < bytes.length) {
    const first = bytes[offset] as number;
    if (options.skipPadding && (first === 0x00 || first === 0xff)) {
      offset++;
      continue;
    }
    const { tag, tagLength } = decodeTag(bytes, offset, code);
    const { length, headerLength } = decodeLength(bytes, offset + tagLength, code);
    const start = offset + tagLength + headerLength;
    if (start + length > bytes.length) {
      throw malformed(code, `value of tag 0x${tag.toString(16)} needs ${length} bytes, ${bytes.length - start} left`);
    }
    const value = bytes.slice(start, start + length);
    const constructed = (first & 0x20) !== 0;
    let children: TlvNode[] | undefined;
    if (constructed && options.parseConstructed && depth < MAX_DEPTH) {
      try {
        children = decodeLevel(value, options, depth + 1);
      } catch {
        // Not TLV inside (e.g. PIV's GSC-IS inner tags hold raw data): keep the value, no children.
        children = undefined;
      }
    }
    nodes.push(children === undefined ? { tag, constructed, value } : { tag, constructed, value, children });
    offset = start + length;
  }
  return nodes;
}

/**
 * Decodes a sequence of BER-TLV objects. Constructed objects get `children` when their value is
 * itself valid TLV (nesting is bounded at 32 levels; deeper objects keep only `value`).
 * Throws ScardError (SCARD_E_INVALID_PARAMETER unless `malformedError` says otherwise) on malformed input.
 */
export function decodeTlv(bytes: Uint8Array, options: DecodeTlvOptions = {}): TlvNode[] {
  const code = options.malformedError ?? 'SCARD_E_INVALID_PARAMETER';
  if (!(bytes instanceof Uint8Array)) throw new ScardError(code, 'TLV input must be a Uint8Array');
  return decodeLevel(
    bytes,
    {
      parseConstructed: options.parseConstructed ?? true,
      skipPadding: options.skipPadding ?? false,
      malformedError: code,
    },
    0,
  );
}

/** Decodes bytes that must hold exactly one top-level TLV object (nothing before or after). */
export function decodeTlvOne(bytes: Uint8Array, options: DecodeTlvOptions = {}): TlvNode {
  const nodes = decodeTlv(bytes, options);
  if (nodes.length !== 1) {
    throw malformed(
      options.malformedError ?? 'SCARD_E_INVALID_PARAMETER',
      `expected one object, found ${nodes.length}`,
    );
  }
  return nodes[0] as TlvNode;
}

/**
 * Encodes one TLV object. `value` is either the raw value or child nodes, which are encoded and
 * concatenated. Lengths use the minimal form.
 */
export function encodeTlv(tag: number, value: Uint8Array | readonly TlvNode[]): Uint8Array {
  const tagField = tagBytes(tag);
  const body = value instanceof Uint8Array ? value : concatBytes(...value.map((child) => encodeTlvNode(child)));
  return concatBytes(tagField, encodeLength(body.length), body);
}

/** Encodes a node; its `children`, when present, take precedence over `value`. */
export function encodeTlvNode(node: TlvNode): Uint8Array {
  return encodeTlv(node.tag, node.children ?? node.value);
}

/** Encodes several nodes one after another. */
export function encodeTlvNodes(nodes: readonly TlvNode[]): Uint8Array {
  return concatBytes(...nodes.map((node) => encodeTlvNode(node)));
}

/** The children of a node, decoding its value when it has none yet (e.g. PIV's primitive `53` wrapper). */
function childrenOf(node: TlvNode): readonly TlvNode[] | undefined {
  if (node.children) return node.children;
  try {
    return decodeTlv(node.value);
  } catch {
    return undefined;
  }
}

/**
 * Finds a node by tag path, depth first: `findTlv(nodes, 0x7F49, 0x86)`. The first object with each
 * tag is taken. A node on the path without `children` (a primitive wrapper such as PIV's `53`, or
 * decoding with parseConstructed false) has its value decoded on the fly.
 */
export function findTlv(nodes: readonly TlvNode[], ...path: number[]): TlvNode | undefined {
  let level: readonly TlvNode[] | undefined = nodes;
  let found: TlvNode | undefined;
  for (let index = 0; index < path.length; index++) {
    if (level === undefined) return undefined;
    found = level.find((node) => node.tag === path[index]);
    if (found === undefined) return undefined;
    if (index < path.length - 1) level = childrenOf(found);
  }
  return found;
}

/** The value (a copy) of the node at `path`, or undefined. */
export function findTlvValue(nodes: readonly TlvNode[], ...path: number[]): Uint8Array | undefined {
  const node = findTlv(nodes, ...path);
  return node === undefined ? undefined : node.value.slice();
}
