import { describe, expect, it } from 'vitest';
import { decide, heldFor, moveAway, note, setAside, startCorrection, vanished } from '../../src/engine/correction.js';
import type { HeldRecord, PreviousVersion, SentRecord } from '../../src/engine/previousVersion.js';

const held = (key: string, hash: string): HeldRecord => ({
  key,
  hash,
  attestationId: `id-${key}`,
  receiver: 'R',
  filePath: '/f',
  position: 1,
  fileSha256: 'x',
  contentOffset: 0,
  contentBytes: 1,
});

/** A previous version streamed in the given batches (as the ledger's COPY delivers them), counting the batches read. */
function previous(batches: HeldRecord[][]): PreviousVersion & { read: () => number } {
  let read = 0;
  return {
    lastRunId: 1,
    liveSubmissions: [1],
    refusals: { count: 0, lastId: null },
    versions: 1,
    highestAttestationId: null,
    read: () => read,
    held: async function* () {
      for (const b of batches) {
        read++;
        // As the ledger's reader, which awaits each batch.
        yield await Promise.resolve(b);
      }
    },
  };
}

/** Runs the merge as renderFiles does: each extracted key (in order) with its hash, or null when quarantined now, and its receiver ('R' unless said). */
async function merge(prev: PreviousVersion, extracted: [string, string | null, string?][], resendAll = false, cancelVanished = true) {
  const c = startCorrection(prev, resendAll, cancelVanished);
  const decisions: Record<string, string> = {};
  for (const [key, hash, receiver = 'R'] of extracted) {
    const h = heldFor(c, key);
    const before: SentRecord | null = h instanceof Promise ? await h : h;
    if (hash === null) {
      setAside(c, key, before);
      continue;
    }
    const d = decide(c, before, hash, receiver);
    decisions[key] = d.send ? `send ${d.status} ${d.attestationId ?? 'new'}` : 'unchanged';
    if (d.moved) moveAway(c, key, d.moved, receiver);
    else note(c, key, before, hash);
  }
  const gone = await vanished(c);
  return { plan: c.plan, decisions, gone: gone.map(([k, r]) => `${k}:${r.attestationId}`) };
}

describe('the merge of a rerun: the new extraction against what the receivers hold, both in key order', () => {
  const before = [
    [held('A', 'h1'), held('B', 'h1'), held('C', 'h1')],
    [held('E', 'h1'), held('G', 'h1')],
    [held('a', 'h1'), held('é', 'h1')],
  ];

  it('finds vanished, new, changed and unchanged keys across batch boundaries, in byte order', async () => {
    // Held: A B C | E G | a é. Extracted: A (same) B (changed) D (new) E (same) F (new) a (changed) b (new); C, G and é vanished.
    const r = await merge(previous(before), [
      ['A', 'h1'],
      ['B', 'h2'],
      ['D', 'h1'],
      ['E', 'h1'],
      ['F', 'h1'],
      ['a', 'h9'],
      ['b', 'h1'],
    ]);
    expect(r.plan).toEqual({ added: ['D', 'F', 'b'], changed: ['B', 'a'], vanished: ['C', 'G', 'é'], unchanged: 2, moved: [], kept: [] });
    expect(r.decisions).toEqual({ A: 'unchanged', B: 'send 2 id-B', D: 'send 0 new', E: 'unchanged', F: 'send 0 new', a: 'send 2 id-a', b: 'send 0 new' });
    expect(r.gone).toEqual(['C:id-C', 'G:id-G', 'é:id-é']);
  });

  it('a record held and quarantined now is kept, neither corrected nor cancelled; one quarantined and never held is nothing', async () => {
    const r = await merge(previous(before), [
      ['B', null],
      ['D', null],
      ['E', 'h1'],
      ['G', null],
    ]);
    expect(r.plan.kept).toEqual(['B', 'G']);
    expect(r.plan.vanished).toEqual(['A', 'C', 'a', 'é']);
    expect(r.gone).toEqual(['A:id-A', 'C:id-C', 'a:id-a', 'é:id-é']);
    expect(r.plan.unchanged).toBe(1);
  });

  it('in a flow replaced whole (nothing cancelled), a record held and quarantined now is left out of the new file, like a vanished one', async () => {
    const r = await merge(
      previous(before),
      [
        ['B', null],
        ['E', 'h1'],
      ],
      true,
      false,
    );
    expect(r.plan.kept).toEqual([]);
    expect(r.plan.vanished).toEqual(['A', 'B', 'C', 'G', 'a', 'é']);
  });

  it('an empty extraction cancels everything held; an empty previous version makes everything new', async () => {
    expect((await merge(previous(before), [])).plan.vanished).toEqual(['A', 'B', 'C', 'E', 'G', 'a', 'é']);
    const fresh = await merge(previous([]), [
      ['A', 'h1'],
      ['Z', 'h1'],
    ]);
    expect(fresh.plan).toEqual({ added: ['A', 'Z'], changed: [], vanished: [], unchanged: 0, moved: [], kept: [] });
  });

  it('a record whose receiver changed is new to its new receiver and cancelled at the old one, changed or not', async () => {
    // A (same content) and B (changed) now go to S; E stays at R.
    const r = await merge(previous(before), [
      ['A', 'h1', 'S'],
      ['B', 'h2', 'S'],
      ['C', 'h1'],
      ['E', 'h1'],
      ['G', 'h1'],
      ['a', 'h1'],
      ['é', 'h1'],
    ]);
    expect(r.decisions).toMatchObject({ A: 'send 0 new', B: 'send 0 new', E: 'unchanged' });
    expect(r.plan).toEqual({ added: ['A', 'B'], changed: [], vanished: ['A', 'B'], unchanged: 5, moved: ['A (R → S)', 'B (R → S)'], kept: [] });
    // Cancelled under the id the old receiver holds.
    expect(r.gone).toEqual(['A:id-A', 'B:id-B']);
    // Even with --full, the new receiver gets an original, not a replacement.
    expect((await merge(previous(before), [['A', 'h1', 'S']], true)).decisions).toEqual({ A: 'send 0 new' });
  });

  it('a flow that cancels nothing (its tables replaced whole) keeps the record under its id', async () => {
    const r = await merge(previous(before), [['A', 'h2', 'S']], false, false);
    expect(r.decisions).toEqual({ A: 'send 2 id-A' });
    expect(r.plan.moved).toEqual([]);
  });

  it('with --full, unchanged records are sent again as replacements under their id', async () => {
    const r = await merge(previous(before), [['A', 'h1']], true);
    expect(r.decisions).toEqual({ A: 'send 2 id-A' });
  });

  it('reads the previous version batch by batch, as the extraction reaches it', async () => {
    const prev = previous(before);
    const c = startCorrection(prev, false, true);
    expect(prev.read()).toBe(0);
    await heldFor(c, 'A');
    expect(prev.read()).toBe(1);
    expect(heldFor(c, 'B')).toMatchObject({ key: 'B' }); // in the batch already read: no promise
    await heldFor(c, 'D');
    expect(prev.read()).toBe(2);
  });
});
