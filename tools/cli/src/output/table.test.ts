import { describe, expect, it } from 'vitest';
import { createColours } from './colours.js';
import { renderPairs, renderTable } from './table.js';

describe('tables', () => {
  it('aligns columns by visible width, ignoring colour escapes', () => {
    const colours = createColours(true);
    expect(
      renderTable(
        ['#', 'name'],
        [
          ['0', colours.green('abc')],
          ['10', 'x'],
        ],
      ),
    ).toBe(`#   name\n0   ${colours.green('abc')}\n10  x`);
  });

  it('aligns label/value pairs', () => {
    expect(
      renderPairs([
        ['a', '1'],
        ['long', '2'],
      ]),
    ).toBe('a:     1\nlong:  2');
  });

  it('colours are off when disabled', () => {
    expect(createColours(false).red('x')).toBe('x');
  });
});
