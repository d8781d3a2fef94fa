import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runHarness.js';

/**
 * V8 gives an object made by `{ ...other, extra }` a hidden class of its own: records made so
 * made every property cache of the renderers, the hash and the documents miss on every record
 * (docs/decisions/0013-one-hidden-class-per-record.md). The counting runs
 * in a Node of its own, where V8's `%HaveSameMap` is allowed (test/helpers/objectShapes.ts).
 */
describe('the shapes of the objects handed to every record renderer', () => {
  it('gives 200 tax attestations one shape, and the identities given with them one too', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', path.join(ROOT, 'test/helpers/objectShapes.ts')], { cwd: ROOT });
    const counts = JSON.parse(stdout) as Record<'taxRecords' | 'identities', { count: number; maps: number }>;
    expect(counts.taxRecords).toEqual({ count: 200, maps: 1 });
    expect(counts.identities).toEqual({ count: 200, maps: 1 });
  }, 60_000);
});
