/**
 * @module A prompt whose answer is never echoed: readline in terminal (raw) mode writing to an output
 * that is muted after the prompt text, so typed characters never reach the screen.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Asks `question` on stderr and reads one line from the TTY on stdin without echoing it. */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const mutedOutput = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!muted) output.write(chunk);
        callback();
      },
    });
    const reader = createInterface({ input, output: mutedOutput, terminal: true });
    reader.on('SIGINT', () => {
      reader.close();
      output.write('\n');
      reject(new Error('interrupted'));
    });
    reader.question(question, (answer) => {
      reader.close();
      output.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
