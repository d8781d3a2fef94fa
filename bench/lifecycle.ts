/**
 * `npm run bench -- --lifecycle`: after the runs, a period's life to its end, each step timed
 * against its floor with the peak RSS of its maillon processes (bench/LIFECYCLE.md):
 * send (against OpenSSH's `sftp -b`), the receiver's replies applied by `maillon acks` (against
 * `psql \copy` of the same anomaly rows), every flow's report in JSON, CSV and HTML (against
 * `psql \copy` of the rows it lists), `rerun` of career and tax-attestations after an import that
 * changes 1 % of the dossier (against the flow's own run), and the evidence packs written and
 * exported (against `cp` and `sha256sum` of the same bytes, twice). Every step is also checked.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fmt, maillon, psql, settle } from './common.js';
import { changeDossier } from './changeDossier.js';
import { anomalyCopySeconds, packCopySeconds, reportCopySeconds } from './lifecycleFloors.js';
import { type BenchSshd, sftpPutSeconds, startBenchSshd, writeBenchReceivers } from './sshServer.js';

/**
 * One measured step: wall seconds (summed over its maillon processes; how many of them the floor
 * does not start, such as psql or sftp: `processes`), floor seconds,
 * peak RSS, the target ratio, and what starting one maillon process costs (`maillon flows`).
 */
export interface LifecycleStep {
  seconds: number;
  processes: number;
  start: number;
  floor: number;
  rssMiB: number;
  target: number;
}

/** The measured steps of one size, by name, in order. */
export type LifecycleMeasures = Map<string, LifecycleStep>;

type Measured = Omit<LifecycleStep, 'start'>;

/** What the lifecycle starts from: the bench's database and folders, and the runs it made. */
export interface LifecycleInput {
  url: string;
  env: Record<string, string>;
  work: string;
  data: string;
  runs: { flow: string; period: string; asOf: string; seconds: number }[];
}

/** The flows that are rerun after the changed import. */
const RERUN = ['career', 'tax-attestations'];
const FORMATS = ['json', 'csv', 'html'] as const;

/** A failed check: the bench's exit code is 1 and the line says what did not hold. */
function check(ok: boolean, what: string): void {
  if (ok) return;
  console.log(`  CHECK FAILED: ${what}`);
  process.exitCode = 1;
}

const line = (step: string, s: { seconds: number; floor: number; rssMiB: number }, floorText: string, detail = ''): void =>
  console.log(
    `${step.padEnd(24)} ${fmt(s.seconds, 2).padStart(8)} ${fmt(s.rssMiB).padStart(13)} ${fmt(s.floor, 2).padStart(9)} ${fmt(s.seconds / s.floor, 2).padStart(6)}  ${floorText}${detail ? `; ${detail}` : ''}`,
  );

export async function benchLifecycle(input: LifecycleInput): Promise<LifecycleMeasures> {
  const measured = new Map<string, Measured>();
  const sshd = await startBenchSshd();
  // What a maillon process costs before it does anything: at small sizes it is most of a step.
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) starts.push((await maillon(['flows'], input.env)).seconds);
  const start = Math.min(...starts);
  try {
    const env = { ...input.env, MAILLON_RECEIVERS: await writeBenchReceivers(sshd, path.join(input.work, 'receivers.json')) };
    console.log('');
    console.log(`lifecycle (a maillon process starts in ${fmt(start, 2)} s: maillon flows, best of 3)`);
    console.log('lifecycle step                wall s  peak RSS MiB   floor s  ratio  floor');
    await send(input, sshd, env, measured);
    await replies(input, sshd, env, measured);
    await reports(input, env, measured);
    await reruns(input, env, measured);
    await evidence(input, env, measured);
  } finally {
    await sshd.stop();
  }
  return new Map([...measured].map(([k, v]) => [k, { ...v, start }]));
}

async function send(input: LifecycleInput, sshd: BenchSshd, env: Record<string, string>, measures: Map<string, Measured>): Promise<void> {
  const written = Number(psql(input.url, `SELECT count(*) FROM maillon.submissions WHERE state = 'written'`).trim());
  settle();
  const run = await maillon(['send', '--no-acks', '--json'], env);
  const outcomes = JSON.parse(run.stdout) as { result: string }[];
  check(outcomes.length === written && outcomes.every((o) => o.result === 'sent'), `send: ${written} submissions written, outcomes ${outcomes.map((o) => o.result).join(', ')}`);
  const files = psql(input.url, `SELECT f.path || '|' || f.bytes FROM maillon.files f WHERE f.kind IN ('FI', 'FS') ORDER BY f.submission_id, f.part, f.kind`)
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
  const bytes = files.reduce((n, [, b]) => n + Number(b), 0);
  const floorDir = path.join(sshd.root, 'FLOOR');
  const floors: number[] = [];
  for (let i = 0; i < 3; i++) {
    await fs.rm(floorDir, { recursive: true, force: true });
    settle();
    floors.push(
      await sftpPutSeconds(
        sshd,
        files.map(([f]) => f!),
        floorDir,
        input.work,
      ),
    );
  }
  for (const [f, b] of files) check((await fs.stat(path.join(floorDir, path.basename(f!)))).size === Number(b), `sftp did not put ${path.basename(f!)} whole`);
  await fs.rm(floorDir, { recursive: true, force: true });
  const step = { seconds: run.seconds, processes: 1, floor: Math.min(...floors), rssMiB: run.rssMiB, target: 1.5 };
  measures.set('send', step);
  line('send', step, `sftp -b of the same ${files.length} files, ${fmt(bytes / 1e6)} MB (best of 3)`, `${outcomes.length} submissions sent`);
}

async function replies(input: LifecycleInput, sshd: BenchSshd, env: Record<string, string>, measures: Map<string, Measured>): Promise<void> {
  // 1 % of the records under anomalies (half blocking), and the largest file rejected whole —
  // the largest of a flow that is not rerun below: a rejected period has nothing for a rerun to
  // correct (the receiver holds nothing; the operator runs it again instead, docs/state-rules.md).
  const notRerun = RERUN.map((f) => `'${f}'`).join(', ');
  const largest = psql(
    input.url,
    `SELECT f.name FROM maillon.files f JOIN maillon.submissions s USING (submission_id)
     WHERE f.kind = 'FI' AND s.flow NOT IN (${notRerun}) ORDER BY f.bytes DESC, f.name LIMIT 1`,
  ).trim();
  const sim = await maillon(['simulate-receiver', '--root', sshd.root, '--reject-rate', '0.005', '--warn-rate', '0.005', '--reject-file', largest], env);
  const written = Number(/(\d+) reply file\(s\) written/.exec(sim.stdout)?.[1] ?? -1);
  console.log(
    `${'(simulate-receiver)'.padEnd(24)} ${fmt(sim.seconds, 2).padStart(8)} ${fmt(sim.rssMiB).padStart(13)}  (the receiver, not timed against a floor: ${written} replies; ${largest} rejected whole)`,
  );
  settle();
  const run = await maillon(['acks', '--json'], env);
  const outcomes = JSON.parse(run.stdout) as { result: string }[];
  check(outcomes.length === written && outcomes.every((o) => o.result === 'processed'), `acks: ${written} replies written, outcomes ${outcomes.map((o) => o.result).join(', ')}`);
  const open = Number(psql(input.url, `SELECT count(*) FROM maillon.submissions WHERE state IN ('written', 'sent', 'received')`).trim());
  check(open === 0, `acks: ${open} submissions are not in a final state`);
  const unmatched = Number(psql(input.url, 'SELECT count(*) FROM maillon.record_anomalies WHERE ordinal IS NULL').trim());
  check(unmatched === 0, `acks: ${unmatched} anomalies matched no record`);
  const floor = await anomalyCopySeconds(input.url, input.work);
  const packs = await fs.readdir(path.join(input.work, 'evidence'), { recursive: true }).then(
    (l) => l.filter((n) => /submission-\d+$/.test(n)).length,
    () => 0,
  );
  const step = { seconds: run.seconds, processes: 1, floor: floor.seconds, rssMiB: run.rssMiB, target: 3 };
  measures.set('acks', step);
  line('acks', step, `psql \\copy of the same ${floor.rows} anomaly rows into a copy of their table (best of 3)`, `${outcomes.length} replies applied, ${packs} evidence packs written`);
}

async function reports(input: LifecycleInput, env: Record<string, string>, measures: Map<string, Measured>): Promise<void> {
  const total = { json: 0, csv: 0, html: 0, floor: 0, rss: { json: 0, csv: 0, html: 0 } };
  for (const { flow, period } of input.runs) {
    const runId = Number(psql(input.url, `SELECT max(run_id) FROM maillon.runs WHERE flow = '${flow}' AND period = '${period}' AND state = 'succeeded' AND NOT dry_run`).trim());
    const floor = reportCopySeconds(input.url, runId);
    total.floor += floor.seconds;
    const times: string[] = [];
    for (const format of FORMATS) {
      const out = path.join(input.work, `report-${flow}.${format}`);
      settle();
      const run = await maillon(['report', flow, '--period', period, '--format', format, '--out', out], env);
      total[format] += run.seconds;
      total.rss[format] = Math.max(total.rss[format], run.rssMiB);
      times.push(`${format} ${fmt(run.seconds, 2)} s ${fmt(run.rssMiB)} MiB`);
      if (format === 'csv') await checkReportCsv(out, flow, floor);
      await fs.rm(out, { force: true });
    }
    console.log(`  ${flow.padEnd(22)} ${times.join(', ')}; floor ${fmt(floor.seconds, 2)} s (${floor.quarantined} quarantined, ${floor.issues} rejected or with anomalies)`);
  }
  for (const format of FORMATS) {
    const step = { seconds: total[format], processes: input.runs.length, floor: total.floor, rssMiB: total.rss[format], target: 3 };
    measures.set(`report ${format}`, step);
    line(`report ${format}`, step, 'psql \\copy of the rows each report lists to /dev/null (best of 3), summed over the flows');
  }
}

/** The CSV report lists every quarantined record and every record issue, and no check failed. */
async function checkReportCsv(file: string, flow: string, floor: { quarantined: number; issues: number }): Promise<void> {
  const counts = { quarantine: 0, record: 0, failed: 0 };
  const handle = await fs.open(file);
  for await (const l of handle.readLines()) {
    if (l.startsWith('quarantine,')) counts.quarantine++;
    else if (l.startsWith('record,')) counts.record++;
    else if (l.startsWith('check,') && /,FAILED,/.test(l)) counts.failed++;
  }
  check(
    counts.quarantine === floor.quarantined && counts.record === floor.issues && counts.failed === 0,
    `report ${flow}: CSV lists ${counts.quarantine} quarantined and ${counts.record} record issues (the ledger holds ${floor.quarantined} and ${floor.issues}), ${counts.failed} checks failed`,
  );
}

async function reruns(input: LifecycleInput, env: Record<string, string>, measures: Map<string, Measured>): Promise<void> {
  const changed = path.join(input.work, 'data-changed');
  const parts = await changeDossier(input.data, changed);
  settle();
  const imp = await maillon(['import', changed], env);
  console.log(
    `${'(import, 1 % changed)'.padEnd(24)} ${fmt(imp.seconds, 2).padStart(8)} ${fmt(imp.rssMiB).padStart(13)}  (${parts.changed} affiliates with amounts changed, ${parts.vanished} vanished, ${parts.new} new)`,
  );
  for (const flow of RERUN) {
    const own = input.runs.find((r) => r.flow === flow)!;
    settle();
    const run = await maillon(['rerun', flow, '--period', own.period, '--as-of', own.asOf, '--reason', 'bench: 1 % of the dossier changed', '--yes'], env);
    const plan = Object.fromEntries([...run.stdout.matchAll(/^ {2}(new|changed|vanished|unchanged) +(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    check(
      plan['new']! > 0 && plan['changed']! > 0 && plan['vanished']! > 0 && /deliver it with/.test(run.stdout),
      `rerun ${flow}: the plan should hold new, changed and vanished records and a correction be written: ${JSON.stringify(plan)}`,
    );
    // Its floor, the run, started a process too: nothing to take away.
    const step = { seconds: run.seconds, processes: 0, floor: own.seconds, rssMiB: run.rssMiB, target: 1.5 };
    measures.set(`rerun ${flow}`, step);
    // The command computes its run once and holds it while the plan is shown (decision 0021); a
    // second run appears only when the dossier changed meanwhile, after a dry one. Every run of the
    // rerun, as the ledger recorded it.
    const durations = psql(
      input.url,
      `SELECT string_agg(extract(epoch FROM finished_at - started_at)::numeric(10,2)::text || CASE WHEN dry_run THEN ' (not sent)' ELSE '' END, ' + ' ORDER BY run_id) FROM maillon.runs WHERE flow = '${flow}' AND kind <> 'original'`,
    ).trim();
    line(
      `rerun ${flow}`,
      step,
      "the same flow's run above (wall)",
      `run ${durations} s (ledger); new ${plan['new']}, changed ${plan['changed']}, vanished ${plan['vanished']}, unchanged ${plan['unchanged']}`,
    );
  }
}

async function evidence(input: LifecycleInput, env: Record<string, string>, measures: Map<string, Measured>): Promise<void> {
  // A folder of its own: the packs `maillon acks` wrote are written again, then exported.
  const dir = path.join(input.work, 'evidence-export');
  const total = { seconds: 0, floor: 0, rssMiB: 0, bytes: 0 };
  for (const { flow, period } of input.runs) {
    const zip = path.join(input.work, `evidence-${flow}.zip`);
    settle();
    const run = await maillon(['evidence', flow, '--period', period, '--out', zip], { ...env, MAILLON_EVIDENCE: dir });
    const packs = Number(/(\d+) evidence pack\(s\)/.exec(run.stdout)?.[1] ?? 0);
    check(packs > 0, `evidence ${flow}: no pack exported`);
    checkZip(zip, flow);
    await fs.rm(zip, { force: true });
    settle();
    const floor = packCopySeconds(path.join(dir, flow, period, input.env['MAILLON_ENV']!), input.work);
    Object.assign(total, { seconds: total.seconds + run.seconds, floor: total.floor + floor.seconds, rssMiB: Math.max(total.rssMiB, run.rssMiB), bytes: total.bytes + floor.bytes });
    console.log(`  ${flow.padEnd(22)} ${fmt(run.seconds, 2)} s ${fmt(run.rssMiB)} MiB; ${packs} packs, ${fmt(floor.bytes / 1e6)} MB; floor ${fmt(floor.seconds, 2)} s`);
  }
  const step = { seconds: total.seconds, processes: input.runs.length, floor: total.floor, rssMiB: total.rssMiB, target: 2 };
  measures.set('evidence', step);
  line('evidence', step, `cp -r and sha256sum of the packs' ${fmt(total.bytes / 1e6)} MB, twice (best of 3), summed over the flows`);
}

/** Every file in the zip has the sha256 its manifest states (`unzip -p` streams each entry out). */
function checkZip(zip: string, flow: string): void {
  const manifest = JSON.parse(execFileSync('unzip', ['-p', zip, 'manifest.json'], { encoding: 'utf8' })) as { files: { path: string; sha256: string }[] };
  const bad = manifest.files.filter((f) => execFileSync('sh', ['-c', 'unzip -p "$1" "$2" | sha256sum', 'sh', zip, f.path], { encoding: 'utf8' }).split(' ')[0] !== f.sha256);
  check(manifest.files.length > 0 && bad.length === 0, `evidence ${flow}: ${bad.length} of ${manifest.files.length} files in the zip differ from its manifest`);
}
