import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withConnection, withTransaction } from '../../src/db/database.js';
import { LedgerConflictError } from '../../src/errors/errors.js';
import { checkOutcomes, createOutcomeWriter } from '../../src/ledger/outcomeWriter.js';
import { startRun } from '../../src/ledger/runs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

// record_outcomes has no foreign keys since migration 008: checkOutcomes does their work in one query.
describe('checkOutcomes', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  async function runWith(fileKey: string, recordFile: boolean, runId?: number): Promise<unknown> {
    const id = runId ?? (await withConnection(db.pool, (session) => startRun(session, { flow: 'career', period: '2026-Q3', environment: 'T', asOf: new Date(), dryRun: false }, new Date())));
    return withTransaction(db.pool, async (tx) => {
      const w = createOutcomeWriter(tx, id);
      await w.emitted({ ordinal: 1, sourceKey: 'A1', recordKey: null, fileKey, position: 1, attestationId: '1', recordHash: 'h', contentOffset: 120, contentBytes: 300 });
      await w.quarantined({ ordinal: 2, sourceKey: 'A2', recordKey: null, rule: 'inss-check-digit', message: 'bad' });
      await w.end();
      if (recordFile) {
        const sub = await tx.query(
          `INSERT INTO maillon.submissions (run_id, flow, period, environment, receiver, sender, purpose, creation_date, sequence, parts, state, created_at, kind)
           VALUES ($1, 'career', '2026-Q3', 'T', 'INASTI', '012345', 'CARR', '2026-10-01', 1, 1, 'written', now(), 'correction') RETURNING submission_id`,
          [id],
        );
        await tx.query(
          `INSERT INTO maillon.files (submission_id, run_id, file_key, kind, name, part, receiver, path, records, bytes, sha256, created_at)
           VALUES ($1, $2, $3, 'FI', 'F', 1, 'INASTI', '/x', 1, 1, repeat('0', 64), now())`,
          [sub.rows[0].submission_id, id, fileKey],
        );
      }
      await checkOutcomes(tx, id);
    }).catch((e: unknown) => e);
  }

  it('passes when every emitted record points to a file of its run', async () => {
    expect(await runWith('f1', true)).toBeUndefined();
  });

  it('refuses to commit a record placed in a file the run did not record, or the outcomes of a run that does not exist', async () => {
    const orphan = await runWith('f2', false);
    expect(orphan).toBeInstanceOf(LedgerConflictError);
    expect((orphan as Error).message).toMatch(/placed 1 record\(s\) in a file it did not record \(f2\)/);
    const noRun = await runWith('f3', false, 999_999);
    expect(noRun).toBeInstanceOf(LedgerConflictError);
    expect((noRun as Error).message).toMatch(/Run 999999 is not in the ledger/);
    const left = await db.pool.query(`SELECT count(*)::int AS n FROM maillon.record_outcomes WHERE file_key IN ('f2', 'f3')`);
    expect(left.rows[0].n).toBe(0);
  });
});
