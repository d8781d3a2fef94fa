import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118, checkBelcotaxFile } from '../../pipelines/belcotax28118.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { type CliOutcome, maillon } from '../helpers/cli.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { xmllint } from '../helpers/golden.js';

const NOW = '2025-01-10T02:00:00+01:00';

/** The `<Fiche28118>` lines of a Belcotax file, by f2010_referentie. */
async function fichesOf(file: string): Promise<Map<string, string>> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l.startsWith('<Fiche28118>'));
  return new Map(lines.map((l) => [/<f2010_referentie>([^<]*)</.exec(l)![1]!, l]));
}

/** A fiche without its sequence number and treatment: what a cancellation must carry as it was sent. */
const content = (fiche: string): string => fiche.replace(/<f2009_volgnummer>\d+</, '<f2009_volgnummer>?<').replace(/<f2028_typetraitement>\d</, '<f2028_typetraitement>?<');
const field = (fiche: string, tag: string): string => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(fiche)![1]!;

/** The one file of the latest real run of the flow. */
async function latestFile(fx: FlowFixture): Promise<{ runId: number; path: string }> {
  const { rows } = await fx.db.pool.query(
    `SELECT f.run_id, f.path FROM maillon.files f JOIN maillon.runs r USING (run_id) WHERE r.flow = 'belcotax-281-18' AND NOT r.dry_run ORDER BY f.run_id DESC LIMIT 1`,
  );
  return { runId: Number(rows[0].run_id), path: rows[0].path };
}

describe('a Belcotax correction cancels (f2028 = 3) the fiches sent before that the year no longer has, and keeps those quarantined now', () => {
  let fx: FlowFixture;
  let original: RunResult;
  let dry: CliOutcome;
  let sent: CliOutcome;
  const rerun = (...args: string[]): Promise<CliOutcome> =>
    maillon(['rerun', 'belcotax-281-18', '--period', '2024', '--reason', 'fiches no longer due', '--as-of', NOW, ...args], {
      DATABASE_URL: fx.db.url,
      MAILLON_HOME: path.dirname(fx.outbox),
      MAILLON_OUTBOX: fx.outbox,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_NOW: NOW,
    });

  beforeAll(async () => {
    fx = await createFlowFixture(undefined, NOW);
    // D05's allowance of June is paid: the year is sent with D02 (abroad, "Lenoir <Jr>"), D05 and D07.
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2024-06-20' WHERE allowance_id = 'L05-B'");
    original = await fx.run(belcotax28118, '2024');
    // Then D07's allowance turns out paid in January 2025 (D07 vanishes from 2024), and D02 now
    // lives in Jersey, a country without a NIS code (D02 is quarantined).
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2025-01-03' WHERE allowance_id = 'L07-B'");
    await fx.db.pool.query("UPDATE dossier.affiliates SET country = 'JE' WHERE affiliate_id = 'D02'");
    dry = await rerun('--dry-run');
    sent = await rerun('--yes');
  });
  afterAll(async () => fx?.close());

  it('the plan shown counts the vanished fiche as a cancellation and the quarantined one as kept by SPF, and the run does so', () => {
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('cancels each record held that it no longer has');
    expect(dry.stdout).toMatch(/vanished\s+1\s+held, sent in the new file as cancellations\s+D07$/m);
    // D02 was paid: SPF keeps the fiche it holds until the dossier is corrected.
    expect(dry.stdout).toMatch(/^ {4}held\s+1\s+quarantined, neither corrected nor cancelled: the receiver keeps what it holds until the dossier is corrected\s+D02$/m);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^ {4}held\s+1\s+quarantined, neither corrected nor cancelled: the receiver keeps what it holds until the dossier is corrected: D02$/m);
    const counts = /^ {2}(extracted .*)$/m;
    expect(counts.exec(dry.stdout)?.[1]).toBe(counts.exec(sent.stdout)?.[1]);
    expect(counts.exec(sent.stdout)?.[1]).toMatch(/^extracted (\d+) \+ cancelled 1 = emitted 2 \+ quarantined \d+ \+ unchanged 0$/);
  });

  it('the file holds a fiche f2028 = 3 for the vanished one, with the content sent before, none for the quarantined one, and passes its XSD and its arithmetic', async () => {
    const fix = await latestFile(fx);
    await xmllint(fix.path, 'belcotax-281-18/v2.xsd');
    const text = await fs.readFile(fix.path, 'utf8');
    const check = checkBelcotaxFile();
    for (const line of text.split('\n')) check.line(line);
    expect(check.end()).toBeNull();
    expect(text).toContain('<v0025_typeenvoi>1</v0025_typeenvoi>');

    const before = await fichesOf(original.files[0]!.path);
    const after = await fichesOf(fix.path);
    expect([...after.values()].map((f) => [field(f, 'f2010_referentie'), field(f, 'f2009_volgnummer'), field(f, 'f2028_typetraitement')])).toEqual([
      ['D05', '1', '1'], // still paid: a modification (the whole year is sent again)
      ['D07', '2', '3'], // no longer paid in 2024: cancelled
    ]);
    // D02, quarantined now, is neither sent nor cancelled: SPF keeps the fiche it holds.
    expect(content(after.get('D07')!)).toBe(content(before.get('D07')!));

    // Every fiche of the sending counts in the trailers, the cancellation included.
    const amount = (key: string): number => Number(field(after.get(key)!, 'f18_2059_totaalcontrole'));
    const controls = amount('D05') + amount('D07');
    expect([field(text, 'r8010_aantalrecords'), field(text, 'r8011_controletotaal'), field(text, 'r8012_controletotaal')]).toEqual(['4', '3', String(controls)]);
    expect([field(text, 'r9011_totaalaantalrecords'), field(text, 'r9012_controletotaal'), field(text, 'r9013_controletotaal')]).toEqual(['6', '3', String(controls)]);
  });

  it('the lineage records the cancellation and the quarantine, and the report counts them and holds its checks', async () => {
    const fix = await latestFile(fx);
    const { rows } = await fx.db.pool.query(`SELECT source_key, status, position FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' ORDER BY position`, [fix.runId]);
    expect(rows.map((r) => [r.source_key, r.status, r.position])).toEqual([
      ['D05', 2, 1],
      ['D07', 1, 2],
    ]);
    const d02 = await fx.db.pool.query(`SELECT outcome, rule FROM maillon.record_outcomes WHERE run_id = $1 AND source_key = 'D02'`, [fix.runId]);
    expect(d02.rows).toEqual([{ outcome: 'quarantined', rule: 'country-without-nis-code' }]);
    const report = await buildReport(fx.db.pool, belcotax28118, '2024', 'T', new Date(NOW));
    expect(report.runId).toBe(fix.runId);
    expect(report.versions.at(-1)!.counts).toMatchObject({ emitted: 2, cancelled: 1, unchanged: 0 });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.files[0]!.records).toBe(2);
  });

  it('a rerun after the cancellations holds no cancelled fiche: nothing vanishes again, and a fiche paid again is an addition', async () => {
    const again = await rerun('--dry-run');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/vanished\s+0\s/);
    // The whole-year correction did not make SPF forget D02's fiche: still held, still kept.
    expect(again.stdout).toMatch(/^ {4}held\s+1\s+quarantined, neither corrected nor cancelled: .*D02$/m);
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2024-12-31' WHERE allowance_id = 'L07-B'");
    const back = await rerun('--yes');
    expect(back.code, back.stderr).toBe(0);
    const after = await fichesOf((await latestFile(fx)).path);
    expect([...after.values()].map((f) => [field(f, 'f2010_referentie'), field(f, 'f2028_typetraitement')])).toEqual([
      ['D05', '1'],
      ['D07', '2'],
    ]);
  });

  it('once the dossier is corrected, the fiche SPF kept is a modification (1), under its reference, with the corrected values', async () => {
    await fx.db.pool.query("UPDATE dossier.affiliates SET country = 'FR', last_name = 'Lenoir' WHERE affiliate_id = 'D02'");
    const fixed = await rerun('--yes');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/changed\s+1\s+in the new file, with other values\s+D02$/m);
    expect(fixed.stdout).not.toMatch(/^ {4}held /m);
    const after = await fichesOf((await latestFile(fx)).path);
    expect([...after.values()].map((f) => [field(f, 'f2010_referentie'), field(f, 'f2028_typetraitement')])).toEqual([
      ['D02', '1'],
      ['D05', '1'],
      ['D07', '1'],
    ]);
    expect(after.get('D02')).toContain('<f2013_naam>Lenoir</f2013_naam>');
  });

  it('a fiche sent before maillon kept its line is not cancelled silently: the rerun stops (exit 7), naming it', async () => {
    await fx.db.pool.query(`UPDATE maillon.record_outcomes SET content_offset = NULL, content_bytes = NULL WHERE source_key = 'D05'`);
    await fx.db.pool.query("UPDATE dossier.allowances SET paid_on = '2025-01-04' WHERE allowance_id = 'L05-B'");
    const refused = await rerun('--yes');
    expect(refused.code, refused.stdout).toBe(7);
    expect(refused.stderr).toMatch(/The record of D05 .* did not keep where each record's content is \(before maillon cancelled whole records such as Belcotax fiches\)/);
  });
});
