import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maillon } from '../helpers/cli.js';
import { ROOT } from '../helpers/runHarness.js';

const BIN = path.join(ROOT, 'bin/maillon.js');

describe('the maillon command', () => {
  it("sets Node's flags on its own #! line, and every way of starting it executes the file", async () => {
    const shebang = fs.readFileSync(BIN, 'utf8').split('\n')[0]!;
    expect(shebang).toBe('#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=20');
    expect(fs.statSync(BIN).mode & 0o111).not.toBe(0);
    // `node bin/maillon.js` would run without the flags of the #! line.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.bin['maillon']).toBe('bin/maillon.js');
    expect(pkg.scripts['start']).toMatch(/^bin\/maillon\.js /);
    expect(pkg.scripts['maillon']).toBe('bin/maillon.js');
    expect(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "/opt/maillon/bin/maillon.js"]');
    for (const file of ['bench/run.ts', 'test/helpers/cli.ts']) expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), file).not.toMatch(/execPath, \[[^\]]*bin\/maillon\.js/);
    // Executed directly (as the tests do), through env -S: it answers.
    const out = await maillon(['flows'], {});
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('tax-attestations');
  });
});
