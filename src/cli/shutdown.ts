const hooks: (() => Promise<void>)[] = [];

/** Registers work to finish before the process exits on a signal (e.g. the scheduler's graceful stop). */
export function onShutdown(hook: () => Promise<void>): void {
  hooks.push(hook);
}

/** Runs the registered hooks, newest first; a failing hook does not stop the others. */
export async function runShutdownHooks(): Promise<void> {
  for (const hook of hooks.splice(0).reverse()) await hook().catch(() => undefined);
}
