import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { byteOrderLess } from '../../src/engine/pipelineContracts.js';
import { type HeldRecord, loadPreviousVersion } from '../../src/engine/previousVersion.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';

async function heldKeys(fx: FlowFixture): Promise<HeldRecord[]> {
  const previous = await loadPreviousVersion(fx.db.pool, 'tax-attestations', '2024', 'T');
  const out: HeldRecord[] = [];
  for await (const batch of previous!.held()) out.push(...batch);
  return out;
}

/** What the receivers hold, streamed from the lineage in PostgreSQL: the order the rerun's merge relies on. */
describe('the previous version, streamed from the ledger in source-key byte order', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(taxAttestations, '2024');
  });
  afterAll(async () => fx?.close());

  it('streams one record per key emitted in a live file, with its place and content', async () => {
    const held = await heldKeys(fx);
    const emitted = await fx.db.pool.query(`SELECT source_key FROM maillon.record_outcomes WHERE outcome = 'emitted' ORDER BY ordinal`);
    expect(held.map((h) => h.key)).toEqual(emitted.rows.map((r) => r.source_key));
    expect(held[0]).toMatchObject({ receiver: expect.any(String), position: 1, contentOffset: expect.any(Number), contentBytes: expect.any(Number) });
    // One receiver per key here: no copy held elsewhere.
    expect(held.every((h) => h.alsoHeldAt.length === 0)).toBe(true);
  });

  it('is in byte order (COLLATE "C") even where the column collates otherwise', async () => {
    // A database created with a linguistic collation would sort a, B, b, é, Z: the merge needs B, Z, a, b, é.
    await fx.db.pool.query(`ALTER TABLE maillon.record_outcomes ALTER COLUMN source_key TYPE text COLLATE "en-x-icu"`);
    const keys = ['a', 'B', 'é', 'Z', 'b'];
    const rows = await fx.db.pool.query(`SELECT run_id, ordinal FROM maillon.record_outcomes WHERE outcome = 'emitted' ORDER BY ordinal LIMIT 5`);
    expect(rows.rows).toHaveLength(5);
    for (const [i, r] of rows.rows.entries()) await fx.db.pool.query('UPDATE maillon.record_outcomes SET source_key = $1 WHERE run_id = $2 AND ordinal = $3', [keys[i], r.run_id, r.ordinal]);
    const held = (await heldKeys(fx)).map((h) => h.key);
    expect(held.slice(0, 5)).toEqual(['B', 'Z', 'a', 'b', 'é']);
    for (let i = 1; i < held.length; i++) expect(byteOrderLess(held[i - 1]!, held[i]!), `${held[i - 1]} before ${held[i]}`).toBe(true);
  });
});
