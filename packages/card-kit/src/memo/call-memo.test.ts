import { describe, expect, it } from 'vitest';
import { MapCallMemo } from './call-memo.js';

describe('MapCallMemo', () => {
  it('loads a key once per call and forgets everything on clear', async () => {
    const memo = new MapCallMemo();
    let loads = 0;
    const load = async () => ++loads;
    expect(await memo.get('a', load)).toBe(1);
    expect(await memo.get('a', load)).toBe(1);
    expect(memo.peek('a')).toBe(1);
    memo.clear();
    expect(memo.peek('a')).toBeUndefined();
    expect(await memo.get('a', load)).toBe(2);
  });

  it('shares one load between concurrent gets and does not remember a failed load', async () => {
    const memo = new MapCallMemo();
    let loads = 0;
    const [a, b] = await Promise.all([memo.get('k', async () => ++loads), memo.get('k', async () => ++loads)]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    await expect(memo.get('bad', async () => Promise.reject(new Error('card gone')))).rejects.toThrow('card gone');
    expect(memo.peek('bad')).toBeUndefined();
    expect(await memo.get('bad', async () => 'ok')).toBe('ok');
  });

  it('set and delete override what a load remembered', async () => {
    const memo = new MapCallMemo();
    await memo.get('x', async () => 1);
    memo.set('x', 5);
    expect(await memo.get('x', async () => 9)).toBe(5);
    memo.delete('x');
    expect(memo.size).toBe(0);
    expect(await memo.get('x', async () => 9)).toBe(9);
  });
});
