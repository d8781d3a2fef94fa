import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { loadEndpoints } from '../../src/transport/receivers.js';
import { scratchDir } from '../helpers/runHarness.js';

const ENDPOINT = {
  '*': {
    host: '127.0.0.1',
    port: 2222,
    user: 'maillon',
    privateKeyPath: 'id_ed25519',
    hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    inDir: '/IN',
    outDir: '/OUT',
    outTestDir: '/OUTTEST',
  },
};

describe('the receivers file', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await scratchDir('receivers');
  });
  afterAll(async () => tmp.remove());

  it('is read when only its owner may change it, and refused, with the command that fixes it, when others may', async () => {
    const file = path.join(tmp.dir, 'receivers.json');
    await fs.writeFile(file, JSON.stringify(ENDPOINT), { mode: 0o644 });
    await fs.chmod(file, 0o644);
    expect(loadEndpoints(file).forReceiver('INASTI').host).toBe('127.0.0.1');
    for (const mode of [0o666, 0o664, 0o646]) {
      await fs.chmod(file, mode);
      const err = (() => {
        try {
          loadEndpoints(file);
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(err, mode.toString(8)).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(`can be changed by others (mode ${mode.toString(8)})`);
      expect((err as Error).message).toContain(`chmod go-w ${file}`);
    }
  });
});
