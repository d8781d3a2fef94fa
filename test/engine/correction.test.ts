import { describe, expect, it } from 'vitest';
import { decide, heldFor, moveAway, note, setAside, startCorrection, vanished } from '../../src/engine/correction.js';
import type { HeldRecord, PreviousVersion, SentRecord } from '../../src/engine/previousVersion.js';

const held = (key: string, hash: string, receiver = 'R', alsoHeldAt: SentRecord[] = []): HeldRecord => ({
  key,
  hash,
  attestationId: receiver === 'R' ? `id-${key}` : `id-${key}-${receiver}`,
  receiver,
  filePath: '/f',
  position: 1,
  fileSha256: 'x',
  contentOffset: 0,
  contentBytes: 1,
  alsoHeldAt,
});

/** A previous version streamed in the given batches (as the ledger's COPY delivers them), counting the batches read. */
function previous(batches: HeldRecord[][]): PreviousVersion & { read: () => number } {
  let read = 0;
  return {
    lastRunId: 1,
    liveSubmissions: [1],
    refusals: { count: 0, lastId: null },
    versions: 1,
    highestAttestationId: () => Promise.resolve(null),
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
    const before: HeldRecord | null = h instanceof Promise ? await h : h;
    if (hash === null) {
      setAside(c, key, before);
      continue;
    }
    const d = decide(c, before, hash, receiver);
    decisions[key] = d.send ? `send ${d.status} ${d.attestationId ?? 'new'}` : 'unchanged';
    moveAway(c, key, d.elsewhere, receiver);
    note(c, key, d.held, hash);
  }
  const gone = await vanished(c);
  return { plan: c.plan, decisions, gone: gone.map(([k, r]) => `${k}:${r.attestationId}@${r.receiver}`) };
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
    expect(r.gone).toEqual(['C:id-C@R', 'G:id-G@R', 'é:id-é@R']);
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
    expect(r.gone).toEqual(['A:id-A@R', 'C:id-C@R', 'a:id-a@R', 'é:id-é@R']);
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
    expect(r.gone).toEqual(['A:id-A@R', 'B:id-B@R']);
    // Even with --full, the new receiver gets an original, not a replacement.
    expect((await merge(previous(before), [['A', 'h1', 'S']], true)).decisions).toEqual({ A: 'send 0 new' });
  });

  describe('a key still held by a receiver it moved away from (its cancellation there did not take)', () => {
    // K went R → S; R rejected the cancellation: S holds the copy sent last, R still its own.
    const twice = () => previous([[held('A', 'h1'), held('K', 'h1', 'S', [held('K', 'h0')])], [held('Z', 'h1')]]);

    it('cancels the copy at R again when K stays at S, and sends S nothing if K did not change', async () => {
      const r = await merge(twice(), [
        ['A', 'h1'],
        ['K', 'h1', 'S'],
        ['Z', 'h1'],
      ]);
      expect(r.decisions).toEqual({ A: 'unchanged', K: 'unchanged', Z: 'unchanged' });
      expect(r.plan).toEqual({ added: [], changed: [], vanished: ['K'], unchanged: 3, moved: ['K (R → S)'], kept: [] });
      expect(r.gone).toEqual(['K:id-K@R']);
      // Changed: replaced at S under S's id, cancelled at R under R's.
      const changed = await merge(twice(), [['K', 'h2', 'S']]);
      expect(changed.decisions).toEqual({ K: 'send 2 id-K-S' });
      expect(changed.gone).toEqual(['A:id-A@R', 'K:id-K@R', 'Z:id-Z@R']);
    });

    it('compares with the copy of the receiver it goes to now, and cancels the others', async () => {
      // Back to R: R's copy is the one to keep (h0 unchanged), S's is cancelled.
      const back = await merge(twice(), [['K', 'h0', 'R']]);
      expect(back.decisions).toEqual({ K: 'unchanged' });
      expect(back.plan).toMatchObject({ added: [], unchanged: 1, moved: ['K (S → R)'] });
      expect(back.gone).toEqual(['A:id-A@R', 'K:id-K-S@S', 'Z:id-Z@R']);
      // To a third receiver: an original there, cancelled at both.
      const third = await merge(twice(), [['K', 'h1', 'T']]);
      expect(third.decisions).toEqual({ K: 'send 0 new' });
      expect(third.plan).toMatchObject({ added: ['K'], moved: ['K (S → T)', 'K (R → T)'], vanished: ['A', 'K', 'K', 'Z'] });
      expect(third.gone).toEqual(['A:id-A@R', 'K:id-K-S@S', 'K:id-K@R', 'Z:id-Z@R']);
    });

    it('cancels every copy of a key gone from the dossier, and the other copies of a key kept because quarantined now', async () => {
      const gone = await merge(twice(), [
        ['A', 'h1'],
        ['Z', 'h1'],
      ]);
      expect(gone.plan).toMatchObject({ vanished: ['K', 'K'], moved: [] });
      expect(gone.gone).toEqual(['K:id-K-S@S', 'K:id-K@R']);
      const kept = await merge(twice(), [
        ['A', 'h1'],
        ['K', null],
        ['Z', 'h1'],
      ]);
      expect(kept.plan).toMatchObject({ kept: ['K'], vanished: ['K'], moved: ['K (R → S)'] });
      expect(kept.gone).toEqual(['K:id-K@R']);
    });

    it('leaves the other copies alone in a flow replaced whole (nothing cancelled)', async () => {
      const r = await merge(twice(), [['K', 'h1', 'S']], false, false);
      expect(r.decisions).toEqual({ K: 'unchanged' });
      expect(r.gone).toEqual(['A:id-A@R', 'Z:id-Z@R']);
    });
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
