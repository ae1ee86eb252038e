/**
 * The per-call memo a session hands its plugin as `CardContext.memo`: card objects a plugin read during
 * one entry point, so it does not read them twice within that call. The session (not the plugin)
 * empties it at every call boundary.
 *
 * @packageDocumentation
 */
import type { CallMemo } from '@minidriver/spec';

/**
 * A {@link CallMemo} backed by a map. Concurrent `get`s of the same key share one load; a load that
 * fails is not remembered.
 */
export class MapCallMemo implements CallMemo {
  readonly #values = new Map<string, unknown>();
  readonly #loading = new Map<string, Promise<unknown>>();

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.#values.has(key)) return this.#values.get(key) as T;
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending as Promise<T>;
    const loading = load();
    this.#loading.set(key, loading);
    try {
      const value = await loading;
      if (this.#loading.get(key) === loading) this.#values.set(key, value);
      return value;
    } finally {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    }
  }

  peek<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  set<T>(key: string, value: T): void {
    this.#loading.delete(key);
    this.#values.set(key, value);
  }

  delete(key: string): void {
    this.#loading.delete(key);
    this.#values.delete(key);
  }

  clear(): void {
    this.#loading.clear();
    this.#values.clear();
  }

  /** How many values are remembered (for tests and traces). */
  get size(): number {
    return this.#values.size;
  }
}
