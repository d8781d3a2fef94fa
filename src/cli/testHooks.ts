import type { Config } from '../config/config.js';
import type { UploadStep } from '../transport/uploadSubmission.js';

/**
 * The delivery hooks of the crash and stop tests (MAILLON_CRASH_AT kills the process with
 * SIGKILL at a step, MAILLON_PAUSE_AT pauses there for 3 s); none when neither is set.
 */
export function deliveryTestHooks(config: Config): { onStep?: (step: UploadStep) => void | Promise<void> } {
  if (!config.crashAt && !config.pauseAt) return {};
  return {
    onStep: async (step) => {
      if (step === config.crashAt) process.kill(process.pid, 'SIGKILL');
      if (step === config.pauseAt) await new Promise((r) => setTimeout(r, 3000));
    },
  };
}
