/**
 * @module The ATR index: resolves a card's ATR against every registered ATR + mask without scanning
 * them. Exact patterns (mask all FF) sit in a hash keyed by the ATR bytes; masked patterns sit in one
 * trie per ATR length whose edges are (mask byte, masked value). A lookup walks only the branches the
 * card's bytes satisfy (runs of single-child positions compared in one loop), so its cost grows with the ATR's length and the number of distinct masks at each
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

/**
 * The searchable form of a trie node: a run of single-child positions is collapsed into `values` /
 * `masks` compared in one loop (path compression), then the branches as in TrieNode.
 */
interface CompiledNode<T> {
  readonly values: Uint8Array;
  readonly masks: Uint8Array;
  readonly fixed: Map<number, CompiledNode<T>> | undefined;
  readonly partial: { readonly mask: number; readonly children: Map<number, CompiledNode<T>> }[] | undefined;
  readonly any: CompiledNode<T> | undefined;
  readonly terminal: AtrIndexEntry<T>[] | undefined;
}

/** An ATR + mask index over values of type T. */
export class AtrIndex<T> {
  /** Exact patterns by a 32-bit hash of their bytes (collisions are checked byte by byte). */
  private readonly exact = new Map<number, AtrIndexEntry<T>[]>();
  private readonly roots = new Map<number, TrieNode<T>>();
  /** Compiled roots by ATR length, rebuilt on the first lookup after an add. */
  private compiled: Map<number, CompiledNode<T>> | undefined;
  private count = 0;

  /** Number of registered patterns. */
  get size(): number {
    return this.count;
  }

  /** Registers `pattern` for `value`. */
  add(pattern: AtrPattern, value: T): void {
    const entry: AtrIndexEntry<T> = { pattern, value, order: this.count++ };
    if (pattern.exact) {
      const key = hashBytes(pattern.atr);
      const list = this.exact.get(key);
      if (list) list.push(entry);
      else this.exact.set(key, [entry]);
      return;
    }
    this.compiled = undefined;
    let node = this.roots.get(pattern.atr.length);
    if (!node) {
      node = {};
      this.roots.set(pattern.atr.length, node);
    }
    for (let i = 0; i < pattern.atr.length; i++)
      node = childFor(node, pattern.mask[i] as number, pattern.atr[i] as number);
    if (node.terminal) node.terminal.push(entry);
    else node.terminal = [entry];
  }

  /** Every entry whose pattern matches `atr`, exact ones first, each group in registration order. */
  lookup(atr: Uint8Array): AtrIndexEntry<T>[] {
    const found: AtrIndexEntry<T>[] = [];
    const exact = this.exact.get(hashBytes(atr));
    if (exact) for (const entry of exact) if (sameBytes(entry.pattern.atr, atr)) found.push(entry);
    this.compiled ??= new Map([...this.roots].map(([length, root]) => [length, compile(root)]));
    const root = this.compiled.get(atr.length);
    if (!root) return found;
    const exactCount = found.length;
    collect(root, atr, 0, found);
    // Masked hits come in trie order; put them in registration order after the exact ones.
    if (found.length - exactCount > 1) {
      const masked = found.splice(exactCount).sort((left, right) => left.order - right.order);
      for (const entry of masked) found.push(entry);
    }
    return found;
  }
}

/** Depth-first walk over the branches the card's bytes satisfy. */
function collect<T>(node: CompiledNode<T>, atr: Uint8Array, start: number, out: AtrIndexEntry<T>[]): void {
  const { values, masks } = node;
  for (let i = 0; i < values.length; i++) {
    if (((atr[start + i] as number) & (masks[i] as number)) !== values[i]) return;
  }
  const depth = start + values.length;
  if (depth === atr.length) {
    if (node.terminal) for (const entry of node.terminal) out.push(entry);
    return;
  }
  const byte = atr[depth] as number;
  const fixed = node.fixed?.get(byte);
  if (fixed) collect(fixed, atr, depth + 1, out);
  if (node.partial) {
    for (const group of node.partial) {
      const child = group.children.get(byte & group.mask);
      if (child) collect(child, atr, depth + 1, out);
    }
  }
  if (node.any) collect(node.any, atr, depth + 1, out);
}

/** Builds the compressed form of `node`, collapsing runs of single-child positions. */
function compile<T>(node: TrieNode<T>): CompiledNode<T> {
  const values: number[] = [];
  const masks: number[] = [];
  let current = node;
  for (;;) {
    if (current.terminal) break;
    const fixedCount = current.fixed?.size ?? 0;
    const partialCount = current.partial?.reduce((sum, group) => sum + group.children.size, 0) ?? 0;
    const anyCount = current.any ? 1 : 0;
    if (fixedCount + partialCount + anyCount !== 1) break;
    if (fixedCount === 1) {
      const [[value, child]] = [...(current.fixed as Map<number, TrieNode<T>>)] as [[number, TrieNode<T>]];
      values.push(value);
      masks.push(0xff);
      current = child;
    } else if (partialCount === 1) {
      const group = (current.partial as NonNullable<TrieNode<T>['partial']>)[0] as NonNullable<
        TrieNode<T>['partial']
      >[number];
      const [[value, child]] = [...group.children] as [[number, TrieNode<T>]];
      values.push(value);
      masks.push(group.mask);
      current = child;
    } else {
      values.push(0);
      masks.push(0);
      current = current.any as TrieNode<T>;
    }
  }
  const compileMap = (map: Map<number, TrieNode<T>>): Map<number, CompiledNode<T>> =>
    new Map([...map].map(([key, child]) => [key, compile(child)]));
  return {
    values: Uint8Array.from(values),
    masks: Uint8Array.from(masks),
    fixed: current.fixed ? compileMap(current.fixed) : undefined,
    partial: current.partial?.map((group) => ({ mask: group.mask, children: compileMap(group.children) })),
    any: current.any ? compile(current.any) : undefined,
    terminal: current.terminal,
  };
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

/** FNV-1a over the bytes: a number key is much cheaper for a Map than a string built per lookup. */
function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  // 30 bits: stays a small integer (Smi) in V8, which a Map hashes without allocating.
  return hash & 0x3fffffff;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
