/**
 * The targets of the lifecycle, judged on the largest size, each `met` or `MISSED`: every maillon
 * process under 256 MiB, each step's peak RSS within 10 % of the reference size's, each lifecycle
 * step within its ratio to its floor, and every flow's run within 2x its `psql \copy` floor.
 */
import { fmt, type Measures, peak } from './common.js';
import type { LifecycleMeasures } from './lifecycle.js';

const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED').padEnd(7);
const RSS_LIMIT_MIB = 256;
const RSS_GROWTH = 1.1;
const RUN_TARGET = 2;

export function printLifecycleTargets(sizes: readonly number[], results: readonly { measures: Measures; lifecycle: LifecycleMeasures | null }[], flows: readonly string[]): void {
  const size = sizes[sizes.length - 1]!;
  const last = results[results.length - 1]!;
  const life = last.lifecycle!;
  console.log('');
  console.log(`targets of the lifecycle at ${size} affiliates`);
  console.log(`  ${`every maillon process's peak RSS < ${RSS_LIMIT_MIB} MiB`.padEnd(48)} ${verdict(peak.mib < RSS_LIMIT_MIB)} ${fmt(peak.mib)} MiB (${peak.what})`);
  if (sizes.length > 1) {
    const first = results[0]!;
    const growth = (a: Map<string, { rssMiB: number }>, b: Map<string, { rssMiB: number }>): [string, number][] => [...b].filter(([k]) => a.has(k)).map(([k, v]) => [k, v.rssMiB / a.get(k)!.rssMiB]);
    for (const [what, pairs] of [
      ['lifecycle step', growth(first.lifecycle!, life)],
      ['run, import, generate', growth(first.measures, last.measures)],
    ] as const) {
      const worst = pairs.reduce((a, b) => (b[1] > a[1] ? b : a));
      const over = pairs.filter(([, g]) => g > RSS_GROWTH).map(([k, g]) => `${k} ${fmt(g, 2)}`);
      console.log(
        `  ${`each ${what}'s peak RSS within 10 % of ${sizes[0]}'s`.padEnd(48)} ${verdict(over.length === 0)} largest ${fmt(worst[1], 2)}x (${worst[0]})${over.length ? `; over: ${over.join(', ')}` : ''}`,
      );
    }
  } else {
    console.log(`  ${"each step's peak RSS within 10 % of the reference".padEnd(48)} not measured: give two sizes, such as --affiliates 100000,${size}`);
  }
  for (const [name, s] of life) {
    const ratio = s.seconds / s.floor;
    // The floor of a step with no process start of its own (psql, sftp, cp): the same ratio without
    // maillon's starts is shown beside it, not judged.
    const net = (s.seconds - s.processes * s.start) / s.floor;
    const without = s.processes === 0 ? '' : `; ${fmt(net, 2)} without its ${s.processes} process start${s.processes > 1 ? 's' : ''}`;
    console.log(`  ${`${name} <= ${s.target}x its floor`.padEnd(48)} ${verdict(ratio <= s.target)} ${fmt(ratio, 2)} (${fmt(s.seconds, 2)} s against ${fmt(s.floor, 2)} s${without})`);
  }
  const runs = flows.map((f) => ({ f, m: last.measures.get(f)! }));
  const worst = Math.max(...runs.map((r) => r.m.runRatio!));
  console.log(`  ${`every flow's run <= ${RUN_TARGET}x its psql \\copy floor`.padEnd(48)} ${verdict(worst <= RUN_TARGET)} ${runs.map((r) => `${r.f} ${fmt(r.m.runRatio!, 2)}`).join(', ')}`);
}
