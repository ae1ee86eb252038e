/**
 * Terminal colours: ANSI styles applied only when the stream is a TTY and NO_COLOR is unset
 * (https://no-color.org: any non-empty value disables colour).
 */

/** The styles the CLI uses; each returns the text unchanged when colour is off. */
export interface Colours {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** True when `stream` should get colour: a TTY, and NO_COLOR unset or empty. */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColour = env['NO_COLOR'];
  return stream.isTTY === true && (noColour === undefined || noColour === '');
}

/** Colours for a stream (off unless {@link colourWanted}). */
export function createColours(enabled: boolean): Colours {
  const style =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  };
}

/** Removes ANSI escapes (to measure the visible width of a styled cell). */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
