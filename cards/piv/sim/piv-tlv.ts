/**
 * Small adapters over @minidriver/iso7816's BER-TLV codec for command parsing inside the simulator:
 * malformed input becomes status 6A80 instead of an exception.
 */
import { decodeTlv, type TlvNode } from '@minidriver/iso7816';
import { fail, PivStatus } from './piv-status.js';

/** Decodes a whole data field as BER-TLV; malformed data answers 6A80. */
export function decodeCommandTlv(data: Uint8Array): TlvNode[] {
  try {
    return decodeTlv(data);
  } catch {
    return fail(PivStatus.incorrectData);
  }
}

/** The single top-level template `tag` the data must consist of; anything else answers 6A80. */
export function requireTemplate(data: Uint8Array, tag: number): TlvNode {
  const nodes = decodeCommandTlv(data);
  const template = nodes[0];
  if (nodes.length !== 1 || template === undefined || template.tag !== tag) fail(PivStatus.incorrectData);
  return template;
}

/** The children of a template (decoded on demand when the codec kept them as a value). */
export function childrenOf(node: TlvNode): TlvNode[] {
  return node.children ?? decodeCommandTlv(node.value);
}

/** The first child with the tag, or undefined. */
export function childWithTag<Node extends { readonly tag: number }>(
  nodes: readonly Node[],
  tag: number,
): Node | undefined {
  return nodes.find((node) => node.tag === tag);
}
