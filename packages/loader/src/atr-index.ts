/**
 * The ATR index: resolves a card's ATR against every registered ATR + mask without scanning them.
 *
 * Patterns are kept in one trie per ATR length whose edges are (mask byte, masked value); exact patterns
 * are the all-FF case. On the first lookup after an add, each trie is turned into a deterministic
 * automaton (subset construction: one state per set of trie nodes the bytes read so far can reach),
 * stored in flat typed arrays. A lookup is then one transition per ATR byte (a short key scan, or a
 * 256-entry table for busy states) and a precomputed, already ordered list of hits: its cost depends on
 * the ATR's length only, never on the number of registered patterns.
 *
 * The automaton is bounded (`maxStates`): patterns whose masks would make it explode (many wildcards at
 * many positions under many branches) keep being resolved by a walk over the trie itself, so memory
 * stays bounded and results stay the same.
 *
 * @packageDocumentation
 */
import type { AtrPattern } from './atr-pattern.js';

/** One registered pattern and what it stands for. */
export interface AtrIndexEntry<T> {
  readonly pattern: AtrPattern;
  readonly value: T;
  /** Registration order, so results are deterministic. */
  readonly order: number;
}

/** Options of an {@link AtrIndex}. */
export interface AtrIndexOptions {
  /**
   * Most automaton states built per compilation (default 262,144). Beyond it the index answers by
   * walking the trie, with the same results.
   */
  readonly maxStates?: number;
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
  /** Identity of the node, for naming sets of nodes. */
  readonly id: number;
}

/** States with more explicit edges than this get a 256-entry table. */
const DENSE_EDGES = 6;
const DEAD = -1;
const DEFAULT_MAX_STATES = 1 << 18;

/** Record kinds in {@link Automaton.program} (a non-negative kind is a sparse state's edge count). */
const DENSE = -1;
const ACCEPT = -2;
const RUN = -3;

/**
 * The compiled automaton: every state is one record in `program`, at the offset that names it, so a step
 * touches one record (usually one cache line):
 * - sparse `[n, fallback, key_1..key_n, target_1..target_n]`: the target of the matching key, else fallback;
 * - dense `[DENSE, fallback, target_0..target_255]`;
 * - run `[RUN, n, byte_1..byte_n, target]`: a chain of states with one edge each, compared in one loop;
 * - accepting `[ACCEPT, first, count]`: hits `first .. first + count` of `hits` (only at depth = ATR length).
 */
interface Automaton<T> {
  /** Start state per ATR length (DEAD when no pattern has that length). */
  readonly roots: Int32Array;
  readonly program: Int32Array;
  /** Hits of every accepting state, one after the other, each state's exact ones first, then registration order. */
  readonly hits: readonly AtrIndexEntry<T>[];
}

/** One state of the automaton under construction. */
interface BuildState<T> {
  readonly edges: [byte: number, target: number][];
  readonly fallback: number;
  readonly hits: readonly AtrIndexEntry<T>[] | undefined;
}

/** An ATR + mask index over values of type T. */
export class AtrIndex<T> {
  private readonly roots = new Map<number, TrieNode<T>>();
  private readonly maxStates: number;
  /** Rebuilt on the first lookup after an add; `null` when the bound was hit (trie walk instead). */
  private automaton: Automaton<T> | null | undefined;
  private count = 0;
  private nodes = 0;

  constructor(options: AtrIndexOptions = {}) {
    this.maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  }

  /** Number of registered patterns. */
  get size(): number {
    return this.count;
  }

  /** True when lookups run on the compiled automaton (false before the first lookup or past the bound). */
  get compiled(): boolean {
    return this.automaton != null;
  }

  /** Registers `pattern` for `value`. */
  add(pattern: AtrPattern, value: T): void {
    const entry: AtrIndexEntry<T> = { pattern, value, order: this.count++ };
    this.automaton = undefined;
    let node = this.roots.get(pattern.atr.length);
    if (!node) {
      node = { id: this.nodes++ };
      this.roots.set(pattern.atr.length, node);
    }
    for (let i = 0; i < pattern.atr.length; i++)
      node = this.childFor(node, pattern.mask[i] as number, pattern.atr[i] as number);
    if (node.terminal) node.terminal.push(entry);
    else node.terminal = [entry];
  }

  /** Every entry whose pattern matches `atr`, exact ones first, each group in registration order. */
  lookup(atr: Uint8Array): AtrIndexEntry<T>[] {
    if (this.automaton === undefined) this.automaton = compileAutomaton(this.roots, this.maxStates);
    const automaton = this.automaton;
    if (automaton === null) return this.walk(atr);
    if (atr.length >= automaton.roots.length) return [];
    const { program } = automaton;
    let state = automaton.roots[atr.length] as number;
    let depth = 0;
    while (state !== DEAD) {
      const kind = program[state] as number;
      if (kind >= 0) {
        const byte = atr[depth++] as number;
        let next = program[state + 1] as number;
        for (let edge = state + 2; edge < state + 2 + kind; edge++) {
          if (program[edge] === byte) {
            next = program[edge + kind] as number;
            break;
          }
        }
        state = next;
      } else if (kind === DENSE) {
        state = program[state + 2 + (atr[depth++] as number)] as number;
      } else if (kind === RUN) {
        const length = program[state + 1] as number;
        for (let k = 0; k < length; k++) if (atr[depth + k] !== program[state + 2 + k]) return [];
        depth += length;
        state = program[state + 2 + length] as number;
      } else {
        const first = program[state + 1] as number;
        return automaton.hits.slice(first, first + (program[state + 2] as number));
      }
    }
    return [];
  }

  /** The bounded fallback: depth-first walk over the trie branches the card's bytes satisfy. */
  private walk(atr: Uint8Array): AtrIndexEntry<T>[] {
    const root = this.roots.get(atr.length);
    if (!root) return [];
    const found: AtrIndexEntry<T>[] = [];
    const visit = (node: TrieNode<T>, depth: number): void => {
      if (depth === atr.length) {
        if (node.terminal) found.push(...node.terminal);
        return;
      }
      const byte = atr[depth] as number;
      const fixed = node.fixed?.get(byte);
      if (fixed) visit(fixed, depth + 1);
      for (const group of node.partial ?? []) {
        const child = group.children.get(byte & group.mask);
        if (child) visit(child, depth + 1);
      }
      if (node.any) visit(node.any, depth + 1);
    };
    visit(root, 0);
    return found.sort(byPrecedence);
  }

  private childFor(node: TrieNode<T>, mask: number, value: number): TrieNode<T> {
    if (mask === 0) {
      node.any ??= { id: this.nodes++ };
      return node.any;
    }
    let children: Map<number, TrieNode<T>>;
    if (mask === 0xff) {
      node.fixed ??= new Map();
      children = node.fixed;
    } else {
      node.partial ??= [];
      let group = node.partial.find((candidate) => candidate.mask === mask);
      if (!group) {
        group = { mask, children: new Map() };
        node.partial.push(group);
      }
      children = group.children;
    }
    let child = children.get(value);
    if (!child) {
      child = { id: this.nodes++ };
      children.set(value, child);
    }
    return child;
  }
}

/** Exact patterns first, then registration order. */
function byPrecedence<T>(left: AtrIndexEntry<T>, right: AtrIndexEntry<T>): number {
  if (left.pattern.exact !== right.pattern.exact) return left.pattern.exact ? -1 : 1;
  return left.order - right.order;
}

/**
 * Subset construction over the tries, then the layout of {@link Automaton.program}. Returns null when
 * more than `maxStates` states would be needed.
 */
function compileAutomaton<T>(tries: Map<number, TrieNode<T>>, maxStates: number): Automaton<T> | null {
  const stateSets: TrieNode<T>[][] = [];
  const stateByKey = new Map<string, number>();
  const stateFor = (nodes: TrieNode<T>[]): number => {
    if (nodes.length === 0) return DEAD;
    if (nodes.length > 1) nodes.sort((left, right) => left.id - right.id);
    const key = nodes.length === 1 ? String((nodes[0] as TrieNode<T>).id) : nodes.map((node) => node.id).join(',');
    let state = stateByKey.get(key);
    if (state === undefined) {
      state = stateSets.length;
      stateSets.push(nodes);
      stateByKey.set(key, state);
    }
    return state;
  };

  let longest = 0;
  for (const length of tries.keys()) longest = Math.max(longest, length);
  const rootStates = new Int32Array(longest + 1).fill(DEAD);
  for (const [length, root] of tries) rootStates[length] = stateFor([root]);

  const states: BuildState<T>[] = [];
  for (let state = 0; state < stateSets.length; state++) {
    if (stateSets.length > maxStates) return null;
    const nodes = stateSets[state] as TrieNode<T>[];
    const terminal = nodes.flatMap((node) => node.terminal ?? []);
    // What any byte leads to (the wildcard children), and what specific bytes add to it.
    const wildcard = unique(nodes.flatMap((node) => (node.any ? [node.any] : [])));
    const specific = new Map<number, TrieNode<T>[]>();
    const addSpecific = (byte: number, child: TrieNode<T>): void => {
      const list = specific.get(byte);
      if (list) list.push(child);
      else specific.set(byte, [child]);
    };
    for (const node of nodes) {
      if (node.fixed) for (const [byte, child] of node.fixed) addSpecific(byte, child);
      for (const group of node.partial ?? []) {
        for (const [value, child] of group.children) {
          // Every byte b with (b & mask) === value.
          for (let byte = 0; byte < 256; byte++) if ((byte & group.mask) === value) addSpecific(byte, child);
        }
      }
    }
    const edges: [number, number][] = [];
    for (const [byte, children] of specific) edges.push([byte, stateFor(unique([...children, ...wildcard]))]);
    states.push({
      edges,
      fallback: stateFor(wildcard),
      hits: terminal.length > 0 ? terminal.sort(byPrecedence) : undefined,
    });
  }
  return layOut(states, rootStates);
}

/** Writes the states as records; chains of single-edge states reached from one place become runs. */
function layOut<T>(states: readonly BuildState<T>[], rootStates: Int32Array): Automaton<T> {
  const incoming = new Int32Array(states.length);
  const count = (state: number, by = 1): void => {
    if (state !== DEAD) incoming[state] = (incoming[state] as number) + by;
  };
  for (const state of states) {
    count(state.fallback);
    for (const [, target] of state.edges) count(target);
  }
  // A root is always a record of its own.
  for (const root of rootStates) count(root, 2);
  const chainLink = (state: BuildState<T>): boolean =>
    state.hits === undefined && state.fallback === DEAD && state.edges.length === 1;

  // Pass 1: offsets of the records (states swallowed by a run get none).
  const offsets = new Int32Array(states.length).fill(DEAD);
  const runs = new Map<number, { bytes: number[]; next: number }>();
  let size = 0;
  for (let index = 0; index < states.length; index++) {
    const state = states[index] as BuildState<T>;
    if (incoming[index] !== 0 && chainLink(state)) {
      // Only the head of a chain gets a record: a state whose single parent is a chain link is inside one.
      const [[byte, target]] = state.edges as [[number, number]];
      const bytes = [byte];
      let next = target;
      while (incoming[next] === 1 && chainLink(states[next] as BuildState<T>)) {
        const [[nextByte, nextTarget]] = (states[next] as BuildState<T>).edges as [[number, number]];
        bytes.push(nextByte);
        incoming[next] = 0;
        next = nextTarget;
      }
      runs.set(index, { bytes, next });
    }
  }
  // Records in depth-first order from each root, so the records one lookup visits sit close together.
  const successors = (index: number): number[] => {
    const run = runs.get(index);
    if (run) return [run.next];
    const state = states[index] as BuildState<T>;
    return [...state.edges.map(([, target]) => target), state.fallback];
  };
  const stack = [...rootStates].filter((root) => root !== DEAD).reverse();
  while (stack.length > 0) {
    const index = stack.pop() as number;
    if (index === DEAD || offsets[index] !== DEAD) continue;
    const state = states[index] as BuildState<T>;
    offsets[index] = size;
    const run = runs.get(index);
    if (run) size += 3 + run.bytes.length;
    else if (state.hits) size += 3;
    else if (state.edges.length > DENSE_EDGES) size += 258;
    else size += 2 + 2 * state.edges.length;
    const next = successors(index);
    for (let k = next.length - 1; k >= 0; k--) stack.push(next[k] as number);
  }

  // Pass 2: the records.
  const program = new Int32Array(size);
  const hits: AtrIndexEntry<T>[] = [];
  const at = (state: number): number => (state === DEAD ? DEAD : (offsets[state] as number));
  for (let index = 0; index < states.length; index++) {
    const offset = offsets[index] as number;
    if (offset === DEAD) continue;
    const state = states[index] as BuildState<T>;
    const run = runs.get(index);
    if (run) {
      program[offset] = RUN;
      program[offset + 1] = run.bytes.length;
      program.set(run.bytes, offset + 2);
      program[offset + 2 + run.bytes.length] = at(run.next);
    } else if (state.hits) {
      program[offset] = ACCEPT;
      program[offset + 1] = hits.length;
      program[offset + 2] = state.hits.length;
      hits.push(...state.hits);
    } else if (state.edges.length > DENSE_EDGES) {
      program[offset] = DENSE;
      program[offset + 1] = at(state.fallback);
      program.fill(at(state.fallback), offset + 2, offset + 258);
      for (const [byte, target] of state.edges) program[offset + 2 + byte] = at(target);
    } else {
      const count = state.edges.length;
      program[offset] = count;
      program[offset + 1] = at(state.fallback);
      state.edges.forEach(([byte, target], edge) => {
        program[offset + 2 + edge] = byte;
        program[offset + 2 + count + edge] = at(target);
      });
    }
  }
  return { roots: rootStates.map(at), program, hits };
}

function unique<T>(nodes: T[]): T[] {
  return nodes.length < 2 ? nodes : [...new Set(nodes)];
}
