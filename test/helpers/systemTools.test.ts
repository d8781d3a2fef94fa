import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './runHarness.js';
import { findTools, requireAllUnderStrict, shadowPath, substitutionLine, type ToolPaths } from './systemTools.js';

/** The test run's own choice between the system tools and their npm counterparts. */
describe('system tools or their npm counterparts', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let bin: string;
  beforeAll(async () => {
    tmp = await scratchDir('tools');
    bin = path.join(tmp.dir, 'bin');
    await fs.mkdir(bin);
    for (const name of ['xmllint', 'chromium', 'sshd']) await fs.writeFile(path.join(bin, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  });
  afterAll(async () => tmp.remove());

  const none: ToolPaths = { xmllint: null, sshd: null, chromium: null, root: null };

  it('finds the tools on PATH, and counts a tool named in MAILLON_TEST_HIDE_TOOLS as absent', () => {
    const found = findTools({ PATH: bin });
    expect(found.xmllint).toBe(path.join(bin, 'xmllint'));
    expect(found.chromium).toBe(path.join(bin, 'chromium'));
    const hidden = findTools({ PATH: bin, MAILLON_TEST_HIDE_TOOLS: 'xmllint,chromium' });
    expect(hidden.xmllint).toBeNull();
    expect(hidden.chromium).toBeNull();
  });

  it('under MAILLON_TEST_STRICT=1, refuses to start and names each missing tool and its package', () => {
    const some = { ...none, sshd: '/usr/sbin/sshd', root: 'root' };
    expect(() => requireAllUnderStrict(some, { MAILLON_TEST_STRICT: '1' })).toThrow(
      'MAILLON_TEST_STRICT=1 forbids substitutions, and xmllint is missing (install libxml2-utils), chromium is missing (install chromium).',
    );
    expect(() => requireAllUnderStrict(some, {})).not.toThrow();
    expect(() => requireAllUnderStrict({ xmllint: 'x', sshd: 'y', chromium: 'z', root: 'root' }, { MAILLON_TEST_STRICT: '1' })).not.toThrow();
  });

  it('names every substitution in one closing line, or says there was none', () => {
    expect(substitutionLine(none)).toBe(
      "substitutions: xmllint -> xmllint-wasm (the tests of native xmllint's validation reading along do not run); sshd -> the in-process ssh2 SFTP server (src/transport/embeddedSftpServer.ts); chromium -> jsdom (the HTML parsed as the HTML standard says, no layout); tmpfs (needs root) -> RLIMIT_FSIZE for the disk-full test (EFBIG, not ENOSPC)",
    );
    expect(substitutionLine({ xmllint: 'x', sshd: 'y', chromium: 'z', root: 'root' })).toMatch(/^substitutions: none/);
  });

  it('hides an absent tool from maillon too: the stand-in first on PATH fails, so maillon takes its npm validator', () => {
    const PATH = shadowPath({ ...none, sshd: 'y' }, path.join(tmp.dir, 'shadow'), { PATH: bin });
    const probe = spawnSync('xmllint', ['--version'], { env: { PATH }, encoding: 'utf8' });
    expect(probe.status).toBe(127);
    expect(probe.stderr).toContain('hidden for this test run');
  });
});
