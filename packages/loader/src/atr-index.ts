/**
 * @module The ATR index: resolves a card's ATR against every registered ATR + mask without scanning
 * them. Exact patterns (mask all FF) sit in a hash keyed by the ATR bytes; masked patterns sit in one
 * trie per ATR length whose edges are (mask byte, masked value). A lookup walks only the branches the
 * card's bytes satisfy, so its cost grows with the ATR's length and the number of distinct masks at each
 * position along matching paths, not with the number of registered patterns.
 */
import type { AtrPattern } from './atr-pattern.js';

/** One registered pattern and what it stands for. */
export interface AtrIndexEntry<T> {
  readonly pattern: AtrPattern;
  readonly value: T;
  /** Registration order, so results are deterministic. */
  readonly order: number;
}

interface TrieNode<T> {
  /** Children for positions whose mask byte is FF, keyed by the byte. */
  fixed?: Map<number, TrieNode<T>>;
  /** Children for positions with a partial mask, grouped by mask byte, then keyed by the masked byte. */
  partial?: { readonly mask: number; readonly children: Map<number, TrieNode<T>> }[];
  /** The child for positions whose mask byte is 00. */
  any?: TrieNode<T>;
  /** Patterns that end here (depth = ATR length). */
  terminal?: AtrIndexEntry<T>[];
}

/** An ATR + mask index over values of type T. */
export class AtrIndex<T> {
  private readonly exact = new Map<string, AtrIndexEntry<T>[]>();
  private readonly roots = new Map<number, TrieNode<T>>();
  private count = 0;

  /** Number of registered patterns. */
  get size(): number {
    return this.count;
  }

  /** Registers `pattern` for `value`. */
  add(pattern: AtrPattern, value: T): void {
    const entry: AtrIndexEntry<T> = { pattern, value, order: this.count++ };
    if (pattern.exact) {
      const key = byteKey(pattern.atr);
      const list = this.exact.get(key);
      if (list) list.push(entry);
      else this.exact.set(key, [entry]);
      return;
    }
    let node = this.roots.get(pattern.atr.length);
    if (!node) {
      node = {};
      this.roots.set(pattern.atr.length, node);
    }
    for (let i = 0; i < pattern.atr.length; i++) node = childFor(node, pattern.mask[i] as number, pattern.atr[i] as number);
    (node.terminal ??= []).push(entry);
  }

  /** Every entry whose pattern matches `atr`, exact ones first, each group in registration order. */
  lookup(atr: Uint8Array): AtrIndexEntry<T>[] {
    const found: AtrIndexEntry<T>[] = [];
    const exact = this.exact.get(byteKey(atr));
    if (exact) found.push(...exact);
    const root = this.roots.get(atr.length);
    if (!root) return found;
    const masked: AtrIndexEntry<T>[] = [];
    // Depth-first walk over the branches the card's bytes satisfy.
    const nodes: TrieNode<T>[] = [root];
    const depths: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop() as TrieNode<T>;
      const depth = depths.pop() as number;
      if (depth === atr.length) {
        if (node.terminal) masked.push(...node.terminal);
        continue;
      }
      const byte = atr[depth] as number;
      const fixed = node.fixed?.get(byte);
      if (fixed) {
        nodes.push(fixed);
        depths.push(depth + 1);
      }
      if (node.partial) {
        for (const group of node.partial) {
          const child = group.children.get(byte & group.mask);
          if (child) {
            nodes.push(child);
            depths.push(depth + 1);
          }
        }
      }
      if (node.any) {
        nodes.push(node.any);
        depths.push(depth + 1);
      }
    }
    if (masked.length > 1) masked.sort((a, b) => a.order - b.order);
    found.push(...masked);
    return found;
  }
}

function childFor<T>(node: TrieNode<T>, mask: number, value: number): TrieNode<T> {
  if (mask === 0xff) {
    node.fixed ??= new Map();
    let child = node.fixed.get(value);
    if (!child) {
      child = {};
      node.fixed.set(value, child);
    }
    return child;
  }
  if (mask === 0) {
    node.any ??= {};
    return node.any;
  }
  node.partial ??= [];
  let group = node.partial.find((candidate) => candidate.mask === mask);
  if (!group) {
    group = { mask, children: new Map() };
    node.partial.push(group);
  }
  let child = group.children.get(value);
  if (!child) {
    child = {};
    group.children.set(value, child);
  }
  return child;
}

/** A compact string key for a byte array (one UTF-16 unit per byte). */
function byteKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i] as number);
  return key;
}
