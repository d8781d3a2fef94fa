import cliProgress from 'cli-progress';

/** A progress display for one long step; a no-op when not on a terminal. */
export interface Progress {
  update(done: number): void;
  /** Ends the display; `done`, when known, is drawn last (a bar that ends at 100 %). */
  stop(done?: number): void;
}

/**
 * A progress line on stderr (terminal only); `total` undefined shows a running count. Nothing is
 * drawn until the step reports its first progress: a step too short to report any shows no line
 * at all, instead of a bar left at 0 %. Every update redraws (the work runs between two awaits,
 * so a timer-driven redraw would seldom get its turn).
 */
export function startProgress(interactive: boolean, label: string, total?: number, unit = 'records'): Progress {
  if (!interactive) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  const draw = (done: number): void => {
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: total ? `${label} [{bar}] {percentage}% {value}/{total}` : `${label} {value} ${unit}`,
          hideCursor: true,
          clearOnComplete: false,
          fps: 1000,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total ?? 0, done);
    } else bar.update(done);
  };
  return {
    update: draw,
    stop: (done) => {
      if (done !== undefined && bar) draw(done);
      bar?.stop();
    },
  };
}
