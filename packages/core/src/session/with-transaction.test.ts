import { ScardError } from '@minidriver/spec';
import { describe, expect, it } from 'vitest';
import { MemoryCard, MemoryTransport } from './testing/memory-card.js';
import { withTransaction } from './with-transaction.js';

describe('withTransaction', () => {
  it('begins once for nested use in one call chain, and a nested reset request resets the outer transaction', async () => {
    const transport = new MemoryTransport(new MemoryCard());
    const result = await withTransaction(transport, async (outer) => {
      expect(outer.nested).toBe(false);
      return withTransaction(transport, async (inner) => {
        expect(inner.nested).toBe(true);
        inner.requestReset();
        return 42;
      });
    });
    expect(result).toBe(42);
    expect([transport.beginCount, transport.endCount]).toEqual([1, 1]);
    expect(transport.dispositions).toEqual(['reset']);
  });

  it('ends the transaction when the work fails, and only ScardError escapes', async () => {
    const transport = new MemoryTransport(new MemoryCard());
    await expect(
      withTransaction(transport, async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toSatisfy((error: unknown) => ScardError.hasCode(error, 'SCARD_E_UNEXPECTED'));
    expect([transport.beginCount, transport.endCount]).toEqual([1, 1]);
    expect(transport.inTransaction).toBe(false);
  });

  it('concurrent chains each hold their own transaction, one after the other', async () => {
    const card = new MemoryCard();
    const transport = new MemoryTransport(card);
    const order: string[] = [];
    const work = (name: string) =>
      withTransaction(transport, async (scope) => {
        expect(scope.nested).toBe(false);
        order.push(`${name} start`);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`${name} end`);
      });
    await Promise.all([work('a'), work('b')]);
    expect(order).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(transport.beginCount).toBe(2);
  });
});
