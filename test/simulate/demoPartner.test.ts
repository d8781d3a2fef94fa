import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoPartner } from '../../src/simulate/demoPartner.js';
import { hostKeyFingerprint } from '../../src/transport/hostKey.js';
import { keyPairParses } from '../../src/transport/keyPair.js';

const pinned = async (receiversFile: string): Promise<string> => JSON.parse(await fs.readFile(receiversFile, 'utf8'))['*'].hostKeyFingerprint;

describe('demo partner keys', () => {
  const homes: string[] = [];
  afterEach(async () => {
    for (const h of homes.splice(0)) await fs.rm(h, { recursive: true, force: true });
  });
  const home = async () => {
    const h = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-demo-'));
    homes.push(h);
    return h;
  };

  it('keeps its keys from one start to the next, the private ones readable by the owner only', async () => {
    const h = await home();
    const first = await startDemoPartner(h);
    await first.close();
    const second = await startDemoPartner(h);
    await second.close();
    expect(await pinned(second.receiversFile)).toBe(await pinned(first.receiversFile));
    for (const key of ['host_ed25519', 'fund_ed25519']) expect((await fs.stat(path.join(h, 'demo-sftp', key))).mode & 0o777).toBe(0o600);
  });

  it('replaces a malformed key pair left by an earlier version instead of failing every start', async () => {
    const h = await home();
    let bad: { private: string; public: string } | null = null;
    for (let i = 0; i < 50_000 && !bad; i++) {
      const k = ssh2.utils.generateKeyPairSync('ed25519');
      if (!keyPairParses(k)) bad = k;
    }
    const dir = path.join(h, 'demo-sftp');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'host_ed25519'), bad!.private, { mode: 0o644 });
    await fs.writeFile(path.join(dir, 'host_ed25519.pub'), bad!.public);
    const partner = await startDemoPartner(h);
    await partner.close();
    const kept = { private: await fs.readFile(path.join(dir, 'host_ed25519'), 'utf8'), public: await fs.readFile(path.join(dir, 'host_ed25519.pub'), 'utf8') };
    expect(kept.private).not.toBe(bad!.private);
    expect(keyPairParses(kept)).toBe(true);
    expect(await pinned(partner.receiversFile)).toBe(hostKeyFingerprint((ssh2.utils.parseKey(kept.public) as ssh2.ParsedKey).getPublicSSH()));
    expect((await fs.stat(path.join(dir, 'host_ed25519'))).mode & 0o777).toBe(0o600);
  });
});
