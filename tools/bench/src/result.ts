/** One line of the benchmark report. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The goal, as text, e.g. "<= 1.05". */
  goal?: string;
  pass?: boolean;
  note?: string;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
