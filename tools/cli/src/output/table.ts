/**
 * Aligned plain-text tables and key/value lists for human output.
 */
import { stripAnsi } from './colours.js';

/** Renders rows under a header, columns padded to their widest cell (two spaces between columns). */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  styleHeader = (text: string) => text,
): string {
  const widths = header.map((title, column) =>
    Math.max(stripAnsi(title).length, ...rows.map((row) => stripAnsi(row[column] ?? '').length)),
  );
  const line = (cells: readonly string[], style: (text: string) => string = (text) => text): string =>
    cells
      .map((cell, column) => {
        const padding = ' '.repeat(Math.max(0, (widths[column] ?? 0) - stripAnsi(cell).length));
        return column === cells.length - 1 ? style(cell) : style(cell) + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(header, styleHeader), ...rows.map((row) => line(row))].join('\n');
}

/** Renders `label: value` pairs with the values aligned. */
export function renderPairs(
  pairs: readonly (readonly [string, string])[],
  styleLabel = (text: string) => text,
): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs
    .map(([label, value]) => `${styleLabel(`${label}:`)}${' '.repeat(width - label.length + 1)} ${value}`.trimEnd())
    .join('\n');
}
