import cliProgress from 'cli-progress';

/** A progress display for one long step; a no-op when not on a terminal. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

/** Starts a progress line on stderr (terminal only); `total` undefined shows a running count. */
export function startProgress(interactive: boolean, label: string, total?: number, unit = 'records'): Progress {
  if (!interactive) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: total ? `${label} [{bar}] {percentage}% {value}/{total}` : `${label} {value} ${unit}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 0, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
