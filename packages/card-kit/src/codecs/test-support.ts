/** Test helper (not exported from the package): runs `action` and requires success or a ScardError. */
import { ScardError } from '@minidriver/spec';

export function onlyScardErrors(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!ScardError.isInstance(error)) throw error;
  }
}
