/** What every step of the bench shares: running maillon as an operator does, psql, timing. */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** One maillon process: its wall time, peak resident set size and standard output. */
export interface Step {
  seconds: number;
  rssMiB: number;
  stdout: string;
}

/**
 * Per measured step of one size up to the runs: items and seconds (the linearity table compares
 * them), the peak RSS; for a flow its ratios to its floor, for the import its ratios to the plain
 * and the bare copy (the targets read them).
 */
export type Measures = Map<string, { items: number; seconds: number; rssMiB: number; runRatio?: number; wallRatio?: number; bareRatio?: number; plainRatio?: number }>;

/** The largest peak RSS of any maillon process of the bench, and which one. */
export const peak = { mib: 0, what: '' };
/** The size being benched (named in `peak.what`). */
export const current = { size: 0 };

/**
 * Runs `maillon <args>` as an operator starts it (the file's own `#!` line sets Node's flags), with
 * the peak RSS recorder preloaded through NODE_OPTIONS; rejects when it exits with any other code
 * than 0 (its stderr goes to the bench's).
 */
export async function maillon(args: string[], env: Record<string, string>): Promise<Step> {
  const rssFile = path.join(os.tmpdir(), `maillon-bench-rss-${process.pid}-${Date.now()}`);
  const started = process.hrtime.bigint();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'bin/maillon.js'), args, {
      env: { ...process.env, ...env, NODE_OPTIONS: `--import=${path.join(ROOT, 'bench/maxRss.mjs')}`, MAILLON_BENCH_RSS_FILE: rssFile, MAILLON_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`maillon ${args.join(' ')} exited with ${code}`))));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssMiB = Number(await fs.readFile(rssFile, 'utf8')) / 1024;
  await fs.rm(rssFile, { force: true });
  if (rssMiB > peak.mib) Object.assign(peak, { mib: rssMiB, what: `${args.slice(0, 2).join(' ')} at ${current.size} affiliates` });
  return { seconds, rssMiB, stdout };
}

/** Runs one psql command (or several statements) on the database; returns its unaligned output. */
export function psql(url: string, command: string): string {
  return execFileSync('psql', [url, '-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/**
 * Writes every dirty page to disk before a measured step, so that no step pays for the writeback
 * of the one before it (what tax-attestations writes was still being written back during the
 * next flows, whose fsyncs then waited: bench/README.md).
 */
export function settle(): void {
  execFileSync('sync');
}

/** Wall time of a synchronous piece of work, seconds. */
export function secondsOf(work: () => void): number {
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The best of `n` timings of the same work: this machine's speed varies from one minute to the next, and a slow floor would flatter the ratio. */
export function bestOf(n: number, work: () => void): number {
  return Math.min(...Array.from({ length: n }, () => secondsOf(work)));
}

export const fmt = (n: number, d = 1): string => n.toFixed(d);
