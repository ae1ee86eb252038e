/**
 * ATR precedence: which plugin wins when several registered patterns match a card's ATR.
 *
 * Candidates are ordered by, in turn:
 *  1. exact patterns (mask all FF) before masked ones;
 *  2. a more specific mask (more mask bits set) before a less specific one;
 *  3. the plugin's source: explicit registration, then plugin directories, then installed dependencies;
 *  4. a tie on 1-3 between two packages is a conflict: it is reported (LoaderWarning `atr-conflict` and
 *     `Resolution.conflict`) and resolved deterministically by package name (code-point order), then by
 *     the pattern's position in its manifest.
 * Windows takes the first match in registry enumeration order and calls overlaps a configuration error
 * (spec docs/spec/minidriver.md §12.2); the loader instead makes the order explicit and says when it had to break a tie.
 */
import type { AtrPattern } from './atr-pattern.js';
import { type PluginRecord, SOURCE_RANK } from './plugin-record.js';

/** One registered pattern that matched the ATR. */
export interface AtrCandidate {
  readonly record: PluginRecord;
  readonly pattern: AtrPattern;
  /** The pattern's position in its manifest's `atrs`. */
  readonly patternIndex: number;
  /** The card name the manifest gives this pattern, if any. */
  readonly patternName?: string;
}

/** Sorts candidates best first, keeping one (the best) per package. */
export function rankCandidates(candidates: readonly AtrCandidate[]): AtrCandidate[] {
  const sorted = [...candidates].sort(compareCandidates);
  const seen = new Set<string>();
  return sorted.filter((candidate) => {
    if (seen.has(candidate.record.packageName)) return false;
    seen.add(candidate.record.packageName);
    return true;
  });
}

/** The packages that tie with the winner on exactness, specificity and source (winner first). */
export function tiedWithWinner(ranked: readonly AtrCandidate[]): AtrCandidate[] {
  const winner = ranked[0];
  if (!winner) return [];
  return ranked.filter((candidate) => sameStrength(candidate, winner));
}

/** Why `candidate` was chosen, in words. */
export function describeChoice(candidate: AtrCandidate, ranked: readonly AtrCandidate[]): string {
  const kind = candidate.pattern.exact
    ? 'exact ATR match'
    : `masked ATR match (${candidate.pattern.specificity} mask bits)`;
  let reason = `${kind} in ${candidate.record.packageName} (${candidate.record.source})`;
  const runnerUp = ranked[1];
  if (runnerUp) {
    const tied = sameStrength(candidate, runnerUp);
    reason += tied
      ? `; tie with ${runnerUp.record.packageName} broken by package name`
      : `; preferred over ${runnerUp.record.packageName} (${whyBetter(candidate, runnerUp)})`;
  }
  return reason;
}

function whyBetter(better: AtrCandidate, worse: AtrCandidate): string {
  if (better.pattern.exact !== worse.pattern.exact) return 'exact before masked';
  if (better.pattern.specificity !== worse.pattern.specificity) return 'more specific mask';
  return `${better.record.source} before ${worse.record.source}`;
}

function sameStrength(a: AtrCandidate, b: AtrCandidate): boolean {
  return (
    a.pattern.exact === b.pattern.exact &&
    a.pattern.specificity === b.pattern.specificity &&
    SOURCE_RANK[a.record.source] === SOURCE_RANK[b.record.source]
  );
}

function compareCandidates(a: AtrCandidate, b: AtrCandidate): number {
  if (a.pattern.exact !== b.pattern.exact) return a.pattern.exact ? -1 : 1;
  if (a.pattern.specificity !== b.pattern.specificity) return b.pattern.specificity - a.pattern.specificity;
  const source = SOURCE_RANK[a.record.source] - SOURCE_RANK[b.record.source];
  if (source !== 0) return source;
  if (a.record.packageName !== b.record.packageName) return a.record.packageName < b.record.packageName ? -1 : 1;
  return a.patternIndex - b.patternIndex;
}
