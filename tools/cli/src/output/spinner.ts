/**
 * A spinner on stderr for work that takes more than a moment (key generation, large reads).
 * Shown only when stderr is a TTY, so pipes and tests see nothing.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_INTERVAL_MS = 80;

/** Runs `action` with a spinner labelled `label` on `stream` (when it is a TTY). */
export async function withSpinner<T>(
  label: string,
  action: () => Promise<T>,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<T> {
  if (!stream.isTTY) return action();
  let frame = 0;
  const draw = (): void => {
    stream.write(`\r${FRAMES[frame % FRAMES.length]} ${label}`);
    frame++;
  };
  draw();
  const timer = setInterval(draw, FRAME_INTERVAL_MS);
  try {
    return await action();
  } finally {
    clearInterval(timer);
    stream.write('\r\u001b[2K');
  }
}
