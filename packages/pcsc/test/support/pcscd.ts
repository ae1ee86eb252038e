/** Whether a PC/SC service answers (local stand-in for @minidriver/sim's pcscdRunning()). */
import { PcscContext } from '../../src/index.js';

export async function pcscdRunning(): Promise<boolean> {
  try {
    const context = await PcscContext.establish();
    await context.release();
    return true;
  } catch {
    return false;
  }
}
