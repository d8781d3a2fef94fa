import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnomalyStage, MATCH_SETTINGS, STORE_ANOMALIES } from '../../src/ack/anomalyStage.js';
import { createReplyChannel, notiBody, type ReplyChannel } from '../helpers/replyChannel.js';

describe("a NOTI's anomalies are applied set by set (real PostgreSQL, real sshd)", () => {
  let ch: ReplyChannel;
  let statements = 0;
  /** The planner settings in force when a reply's transaction moves its submission, one row per move. */
  const settingsAtSettle: Record<string, string>[] = [];
  const counted = new WeakSet<pg.PoolClient>();

  beforeAll(async () => {
    ch = await createReplyChannel();
    // Counts every statement the pool's connections run (COPY included, as one).
    ch.fx.db.pool.on('acquire', (client: pg.PoolClient) => {
      if (counted.has(client)) return;
      counted.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        statements++;
        if (typeof args[0] === 'string' && args[0].includes('SET state = agg.target')) {
          const settings = query(`SELECT current_setting('enable_nestloop') AS enable_nestloop, current_setting('jit') AS jit, current_setting('work_mem') AS work_mem`) as Promise<pg.QueryResult>;
          return settings.then((r) => {
            settingsAtSettle.push(r.rows[0] as Record<string, string>);
            return query(...args);
          });
        }
        return query(...args);
      };
    });
  });
  afterAll(async () => ch?.close());

  /** Sends a submission, answers it with a NOTI of `n` anomalies about A001 and A002; returns the statements `acks` ran. */
  async function statementsFor(n: number): Promise<{ statements: number; submissionId: number; runId: number }> {
    const t = await ch.runAndSend('T');
    const anomalies = Array.from({ length: n }, (_, i) => ({ inss: i % 2 ? '85073003328' : '03051212332', code: `N${String(i).padStart(4, '0')}` }));
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, anomalies));
    statements = 0;
    expect((await ch.acks('T')).map((o) => o.result)).toEqual(['processed']);
    // Taken away, so that the next pass lists the same number of replies.
    for (const n of [name, `GO${name.slice(2)}.1`]) await fs.rm(path.join(ch.sshd.root, 'OUTTEST', n));
    return { statements, submissionId: t.submissionId, runId: t.run.runId };
  }

  it('runs the same number of statements for 3 anomalies and for 3,000', async () => {
    const few = await statementsFor(3);
    const many = await statementsFor(3000);
    expect(await ch.stateOf(many.submissionId)).toBe('accepted_with_anomalies');
    const stored = await ch.fx.db.pool.query('SELECT count(*)::int AS n, count(ordinal)::int AS matched FROM maillon.record_anomalies WHERE run_id = $1', [many.runId]);
    expect(stored.rows[0]).toEqual({ n: 3000, matched: 3000 });
    expect(many.statements).toBe(few.statements);
  });

  it('matches each anomaly to the record of the file with its AttestationID when given, else the first with its INSS; keeps document order', async () => {
    const t = await ch.runAndSend('T');
    const ids = await ch.fx.db.pool.query<{ record_key: string; ordinal: number; attestation_id: string }>(
      `SELECT record_key, ordinal, attestation_id FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' AND record_key IN ('85073003328', '03051212332') ORDER BY ordinal`,
      [t.run.runId],
    );
    const a001 = ids.rows.find((r) => r.record_key === '85073003328')!;
    const a002 = ids.rows.find((r) => r.record_key === '03051212332')!;
    await ch.put(
      'OUTTEST',
      'T',
      'NOTI',
      notiBody(t.file, 2, [
        { inss: '85073003328', attestationId: a001.attestation_id, code: 'C1' },
        // A002's AttestationID under A001's INSS: the AttestationID names the record (before, unmatched).
        { inss: '85073003328', attestationId: a002.attestation_id, code: 'C2' },
        { code: 'C3' }, // names no one
        { inss: '03051212332', code: 'C4', blocking: 'B' },
        { inss: '99999999999', code: 'C5' }, // not in the file
      ]),
    );
    await ch.acks('T');
    const rows = await ch.fx.db.pool.query('SELECT code, ordinal, inss, attestation_id, blocking FROM maillon.record_anomalies WHERE run_id = $1 ORDER BY anomaly_id', [t.run.runId]);
    expect(rows.rows).toEqual([
      { code: 'C1', ordinal: a001.ordinal, inss: '85073003328', attestation_id: a001.attestation_id, blocking: false },
      { code: 'C2', ordinal: a002.ordinal, inss: '85073003328', attestation_id: a002.attestation_id, blocking: false },
      { code: 'C3', ordinal: null, inss: null, attestation_id: null, blocking: false },
      { code: 'C4', ordinal: a002.ordinal, inss: '03051212332', attestation_id: null, blocking: true },
      { code: 'C5', ordinal: null, inss: '99999999999', attestation_id: null, blocking: false },
    ]);
    const event = await ch.fx.db.pool.query(`SELECT detail FROM maillon.events WHERE submission_id = $1 AND kind = 'noti'`, [t.submissionId]);
    expect(event.rows[0].detail).toMatchObject({ anomalies: 5, unmatched: 2, otherInss: 1, result: 'accepted_with_anomalies' });
    // A blocking anomaly refuses its record, not the file.
    expect(await ch.stateOf(t.submissionId)).toBe('accepted_with_anomalies');
  });

  it("plans the rest of the reply's transaction as any other once the anomalies are matched (no JIT of a one-row update)", async () => {
    const defaults = await ch.fx.db.pool.query(`SELECT current_setting('enable_nestloop') AS enable_nestloop, current_setting('jit') AS jit, current_setting('work_mem') AS work_mem`);
    const t = await ch.runAndSend('T');
    const name = await ch.put('OUTTEST', 'T', 'NOTI', notiBody(t.file, 2, [{ inss: '85073003328', code: 'N0001' }]));
    settingsAtSettle.length = 0;
    expect((await ch.acks('T')).find((o) => o.name === name)?.result).toBe('processed');
    expect(await ch.stateOf(t.submissionId)).toBe('accepted_with_anomalies');
    // The match turns nested loops off, which prices any plan with one at 10^10: left on, the
    // submission's one-row UPDATE was JIT-compiled, about 120 ms per NOTI.
    expect(settingsAtSettle).toEqual([defaults.rows[0]]);
    expect(defaults.rows[0]).toMatchObject({ enable_nestloop: 'on' });
  });

  it('matches a NOTI to its file by hash joins, even when the lineage has no statistics yet (no nested loop over the records)', async () => {
    const t = await ch.runAndSend('T');
    const file = await ch.fx.db.pool.query<{ file_id: string; file_key: string }>('SELECT file_id, file_key FROM maillon.files WHERE run_id = $1 AND kind = $2', [t.run.runId, 'FI']);
    // The stage and the plan in one transaction, rolled back: nothing is stored.
    const tx = await ch.fx.db.pool.connect();
    let plan: string;
    try {
      await tx.query('BEGIN');
      const stage = createAnomalyStage(tx);
      // Some by INSS, some by AttestationID (with or without an INSS): both joins are planned.
      for (let i = 0; i < 300; i++) {
        await stage.add({ inss: i % 5 === 4 ? null : i % 2 ? '85073003328' : '03051212332', attestationId: i % 3 ? null : String(i), blocking: false, code: `N${i}`, description: 'd' });
      }
      await stage.end();
      await tx.query(MATCH_SETTINGS);
      const explained = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${STORE_ANOMALIES}`, [1, file.rows[0]!.file_id, t.run.runId, file.rows[0]!.file_key]);
      plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await tx.query('ROLLBACK');
      tx.release();
    }
    expect(plan).toMatch(/Hash (Semi )?Join/);
    expect(plan).not.toMatch(/Nested Loop/);
  });
});
