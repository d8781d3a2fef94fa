import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { readSentContents } from '../../src/engine/correction.js';
import type { SentRecord } from '../../src/engine/previousVersion.js';
import { OutboxError } from '../../src/errors/errors.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture } from '../helpers/flowFixture.js';
import { xmllint } from '../helpers/golden.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';

const NOW = '2025-01-10T02:00:00+01:00';
const parser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, isArray: (n) => n === 'Attestation' });
const STREET = 'Avenue Louise 200\nboîte 5';

/** The 2024 dossier with D06's street on two lines; without D06 (and D05) when `without` says so. */
async function dossier(dir: string, without: string[] = []): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of await fs.readdir(DOSSIER_2024)) {
    let text = await fs.readFile(path.join(DOSSIER_2024, f), 'utf8');
    for (const id of without)
      text = text
        .split('\n')
        .filter((l) => !l.startsWith(`${id},`) && !l.includes(`,${id},`))
        .join('\n');
    if (f === 'affiliates.csv') text = text.replace('Avenue Louise 200', `"${STREET}"`);
    await fs.writeFile(path.join(dir, f), text);
  }
  return dir;
}

/** The text between the engine's identification and `</Attestation>` of the attestation of an INSS. */
function contentOf(xml: string, inss: string): string {
  const line = xml.split('\n').find((l) => l.includes(`<INSS>${inss}</INSS>`))!;
  return line.slice(line.indexOf('</AttestationIdentification>') + '</AttestationIdentification>'.length, line.lastIndexOf('</Attestation>'));
}

describe('the cancellation of a record in a rerun (tax-attestations 2024)', () => {
  let fx: FlowFixture;
  let tmp: { dir: string; remove: () => Promise<void> };
  let original: RunResult;
  const rerun = (reason: string): Promise<RunResult> =>
    runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), {
      pipeline: taxAttestations,
      period: parsePeriod('2024'),
      environment: 'T',
      sender: '012345',
      asOf: new Date(NOW),
      dryRun: false,
      correction: { reason, full: false },
    });
  beforeAll(async () => {
    tmp = await scratchDir('cancel');
    fx = await createFlowFixture(await dossier(path.join(tmp.dir, 'first')), NOW);
    original = await fx.run(taxAttestations, '2024');
  });
  afterAll(async () => {
    await fx.close();
    await tmp.remove();
  });

  it('cancels a record whose street is on two lines with exactly the content sent, and the correction validates (it failed its XSD)', async () => {
    await importFolder(fx.db.pool, await dossier(path.join(tmp.dir, 'gone'), ['D06']));
    const fix = await rerun('D06 left the fund');
    expect(fix.counts).toMatchObject({ emitted: 1, cancelled: 1, unchanged: 4 });
    const file = fix.files[0]!.path;
    await xmllint(file, 'tax-attestations/v1.xsd');
    const before = await fs.readFile(original.files[0]!.path, 'utf8');
    const after = await fs.readFile(file, 'utf8');
    const [cancelled] = parser.parse(after).ATTF.Attestation;
    const [sent] = parser.parse(before).ATTF.Attestation.filter((a: any) => a.INSS === '90031518119');
    expect(cancelled.AttestationIdentification).toEqual({ AttestationID: sent.AttestationIdentification.AttestationID, AttestationStatus: '1', CreationDate: '2025-01-10' });
    expect(cancelled.Address.Street).toBe(STREET);
    expect(contentOf(after, '90031518119')).toBe(contentOf(before, '90031518119'));
    // The lineage says where that content is, in the new file as in the first.
    const rows = await fx.db.pool.query(`SELECT run_id, content_offset, content_bytes FROM maillon.record_outcomes WHERE source_key = 'D06' AND outcome = 'emitted' ORDER BY run_id`);
    const bytes = await fs.readFile(file);
    const [, last] = rows.rows;
    expect(bytes.subarray(Number(last.content_offset), Number(last.content_offset) + last.content_bytes).toString('utf8')).toBe(contentOf(after, '90031518119'));
  });

  it('refuses to cancel from an earlier file that is not the one sent, or from a record sent without its content located', async () => {
    const first = original.files[0]!.path;
    const text = await fs.readFile(first);
    await fs.writeFile(first, Buffer.from(text.toString('utf8').replace('Hauptstraße 5', 'Hauptstrasse 5')));
    await importFolder(fx.db.pool, await dossier(path.join(tmp.dir, 'gone2'), ['D05', 'D06']));
    const err = await rerun('D05 left the fund').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboxError);
    expect((err as Error).message).toMatch(/is not the one that was sent \(its sha256 differs from the ledger's\).*Restore it from the evidence pack/);
    await fs.writeFile(first, text);
    await fx.db.pool.query(`UPDATE maillon.record_outcomes SET content_offset = NULL, content_bytes = NULL WHERE source_key = 'D05'`);
    const old = await rerun('D05 left the fund').catch((e: unknown) => e);
    expect((old as Error).message).toMatch(
      /The record of D05 \(AttestationID \d+\) .* was sent by a version of maillon that did not keep where each record's content is \(before ledger migration 070\), so maillon cannot build its cancellation: cancel it with the receiver by hand/,
    );
  });
});

describe('readSentContents', () => {
  it("reads every kept content, across the file's chunks, in one pass that checks the file", async () => {
    const tmp = await scratchDir('contents');
    try {
      const file = path.join(tmp.dir, 'earlier.xml');
      // 3 MiB of lines; contents taken at the start, across the 1 MiB boundaries and at the end.
      const text = Array.from({ length: 60_000 }, (_, i) => `<Attestation>line ${String(i).padStart(6, '0')} é😀</Attestation>`).join('\n');
      const bytes = Buffer.from(text);
      await fs.writeFile(file, bytes);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const spans: [number, number][] = [
        [0, 20],
        [(1 << 20) - 7, 30],
        [(2 << 20) - 1, 2],
        [bytes.length - 13, 13],
        [500_000, 1 << 20],
      ];
      const gone = spans.map(([offset, length], i): [string, SentRecord] => [
        `K${i}`,
        { hash: 'h', attestationId: String(i + 1), receiver: 'R', filePath: file, position: i + 1, fileSha256: sha, contentOffset: offset, contentBytes: length },
      ]);
      const reversed = [...gone].reverse();
      const contents = await readSentContents(reversed);
      for (const [i, [key, r]] of reversed.entries()) expect(contents[i], key).toBe(bytes.subarray(r.contentOffset!, r.contentOffset! + r.contentBytes!).toString('utf8'));
    } finally {
      await tmp.remove();
    }
  });
});
