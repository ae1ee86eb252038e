/**
 * @packageDocumentation
 * Prompts on the terminal: a hidden one whose answer is never echoed (readline in terminal mode writing to
 * an output muted after the prompt text) and a visible one for typed confirmations. Ctrl-C at either is
 * SCARD_W_CANCELLED_BY_USER (exit code 130).
 */
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { ScardError } from '@minidriver/spec';

/** Ctrl-C at the prompt (readline's SIGINT in terminal mode): SCARD_W_CANCELLED_BY_USER. */
function cancelOnInterrupt(reader: Interface, output: NodeJS.WriteStream, reject: (error: ScardError) => void): void {
  reader.on('SIGINT', () => {
    reader.close();
    output.write('\n');
    reject(new ScardError('SCARD_W_CANCELLED_BY_USER', 'cancelled at the prompt (Ctrl-C): nothing was changed'));
  });
}

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
    cancelOnInterrupt(reader, output, reject);
    reader.question(question, (answer) => {
      reader.close();
      output.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/** Asks `question` on stderr and reads one visible line from the TTY on stdin (a typed confirmation). */
export function promptVisible(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = createInterface({ input, output, terminal: true });
    cancelOnInterrupt(reader, output, reject);
    reader.question(question, (answer) => {
      reader.close();
      resolve(answer);
    });
  });
}
