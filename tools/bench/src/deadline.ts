/**
 * Every wait of the benchmarks has a deadline and says what it waits for: a wedged pcscd or a reader that
 * never reports its card ends the benchmark with a message instead of a silent hang.
 *
 * @packageDocumentation
 */

/** Resolves as `promise` does, or rejects after `ms` with an Error saying what did not happen. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Prints a progress line on stderr (the table goes to stdout). */
export function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}
