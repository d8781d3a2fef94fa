import { expect } from 'vitest';
import { career } from '../../../pipelines/career.js';
import { ingestReplies } from '../../../src/ack/ingestReplies.js';
import { runBackfill } from '../../../src/engine/backfill.js';
import { parsePeriod } from '../../../src/period/period.js';
import { cancelSubmission } from '../../../src/transport/cancelSubmission.js';
import { sendSubmissions } from '../../../src/transport/sendSubmissions.js';
import { expectAcks, Step } from './commands.js';
import { expectedCancel, heldBackBySend, liveIn, type Model, type MState, PERIODS } from './model.js';
import { adoptRun, adoptSend, attempt, runCareer, said } from './operate.js';
import type { World } from './world.js';

export type Pair = 'run+run' | 'run+backfill' | 'send+send' | 'send+cancel' | 'cancel+cancel' | 'acks+acks';

/** Two maillon instances at once on the same ledger and server: what one does, the other must see. */
export class Concurrently extends Step {
  constructor(
    readonly pair: Pair,
    readonly period: string,
    readonly pick: number,
  ) {
    super();
  }

  async act(m: Model, w: World): Promise<void> {
    const label = this.toString();
    const lastRun = Number((await w.db.pool.query('SELECT coalesce(max(run_id), 0) AS n FROM maillon.runs')).rows[0].n);
    switch (this.pair) {
      case 'run+run': {
        const live = liveIn(m, this.period).length > 0;
        const outs = await Promise.all([attempt(() => runCareer(w, this.period)), attempt(() => runCareer(w, this.period))]);
        expect(outs.map(said).sort(), label).toEqual(live ? ['exit 8', 'exit 8'] : ['exit 8', 'ok']);
        break;
      }
      case 'run+backfill': {
        const [run, backfill] = await Promise.all([
          attempt(() => runCareer(w, this.period)),
          attempt(() => runBackfill(w.run, { pipeline: career, from: parsePeriod(PERIODS[0]), to: parsePeriod(PERIODS[2]), environment: 'T', sender: '012345' })),
        ]);
        // Either may lose the race for the period (exit 8, "being run" or "held"); never both win it.
        expect([said(run), said(backfill)], label).not.toContain('exit 1');
        break;
      }
      case 'send+send': {
        const written = m.subs.filter((s) => s.state === 'written').map((s) => s.id);
        // Held back by both: built on a version the receiver rejected since.
        const heldBack = heldBackBySend(m).map((s) => s.id);
        const [a, b] = await Promise.all([sendSubmissions(w.send, { environment: 'T' }), sendSubmissions(w.send, { environment: 'T' })]);
        for (const id of written) {
          const sent = [...a, ...b].filter((o) => o.submissionId === id && o.result === 'sent').length;
          expect(sent, `${label}: #${id} sent by ${sent} instance(s)`).toBe(heldBack.includes(id) ? 0 : 1);
        }
        await adoptSend(m, w, null, label);
        break;
      }
      case 'send+cancel': {
        const s = m.subs.length ? m.subs[this.pick % m.subs.length] : undefined;
        const before = s ? expectedCancel(m, s) : 'exit 4';
        const wasWritten = s?.state === 'written';
        const [, cancel] = await Promise.all([sendSubmissions(w.send, { environment: 'T' }), attempt(() => cancelSubmission(w.cancel, s?.id ?? 999_999))]);
        const got = 'ok' in cancel ? cancel.ok : said(cancel);
        // A written submission races the send: cancelled before it, refused while it is sent, or its TD after it.
        if (wasWritten) expect(['cancelled-locally', 'td-written', 'exit 8'], label).toContain(got);
        else expect(got, label).toBe(before);
        if (s && 'ok' in cancel) s.state = 'cancelled';
        await adoptSend(m, w, null, label);
        if (s) {
          const row = (await w.db.pool.query('SELECT state, go_started_at IS NOT NULL AS go FROM maillon.submissions WHERE submission_id = $1', [s.id])).rows[0];
          expect(row.state === 'cancelled', `${label}: #${s.id} is ${row.state} after cancel said ${got}`).toBe('ok' in cancel);
          s.state = row.state as MState;
          s.goStarted = row.go;
        }
        break;
      }
      case 'cancel+cancel': {
        const s = m.subs.length ? m.subs[this.pick % m.subs.length] : undefined;
        const expected = expectedCancel(m, s);
        const outs = await Promise.all([1, 2].map(() => attempt(() => cancelSubmission(w.cancel, s?.id ?? 999_999))));
        const got = outs.map((o) => ('ok' in o ? o.ok : said(o))).sort();
        if (expected === 'cancelled-locally' || expected === 'td-written') {
          // One cancels; the other finds it cancelled, or is refused while the first holds the submission.
          expect(
            got.filter((g) => g === expected),
            `${label}: ${got.join(',')}`,
          ).toHaveLength(1);
          expect(
            got.filter((g) => g !== expected).every((g) => g === 'already-cancelled' || g === 'exit 8'),
            `${label}: ${got.join(',')}`,
          ).toBe(true);
          s!.state = 'cancelled';
        } else expect(got, label).toEqual([expected, expected]);
        break;
      }
      case 'acks+acks': {
        const [a, b] = await Promise.all([ingestReplies(w.acks, 'T'), ingestReplies(w.acks, 'T')]);
        expectAcks(m, [...a, ...b], label, 2);
        break;
      }
    }
    const runs = (await w.db.pool.query('SELECT run_id FROM maillon.runs WHERE run_id > $1 ORDER BY run_id', [lastRun])).rows;
    for (const r of runs) await adoptRun(m, w, Number(r.run_id));
  }

  toString(): string {
    return `at once: ${this.pair}${this.pair.startsWith('run') ? ` ${this.period}` : this.pair.includes('cancel') ? ` [${this.pick}]` : ''}`;
  }
}
