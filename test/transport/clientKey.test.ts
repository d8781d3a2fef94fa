import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { readClientKey } from '../../src/transport/clientKey.js';
import { scratchDir } from '../helpers/runHarness.js';

const PASSPHRASE = 'correct horse battery';

describe('reading the private key before connecting', () => {
  let home: { dir: string; remove: () => Promise<void> };
  let encrypted: string;
  let plain: string;
  let publicHalf: string;

  const write = async (name: string, text: string): Promise<string> => {
    const file = path.join(home.dir, name);
    await fs.writeFile(file, text, { mode: 0o600 });
    return file;
  };
  const refusal = (run: () => unknown): ConfigError => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('the key was accepted');
  };

  beforeAll(async () => {
    home = await scratchDir('client-key');
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { passphrase: PASSPHRASE, cipher: 'aes256-ctr', rounds: 16 });
    encrypted = await write('encrypted', keys.private);
    plain = await write('plain', ssh2.utils.generateKeyPairSync('ed25519').private);
    publicHalf = await write('encrypted.pub', keys.public);
  });
  afterAll(async () => {
    await home?.remove();
  });

  it('reads a key with its passphrase, and one that has none', () => {
    expect(readClientKey({ privateKeyPath: encrypted, passphraseEnv: 'MAILLON_KEY_PASSPHRASE' }, PASSPHRASE).toString()).toContain('OPENSSH PRIVATE KEY');
    expect(readClientKey({ privateKeyPath: plain }, undefined).toString()).toContain('OPENSSH PRIVATE KEY');
  });

  it('refuses an encrypted key whose passphrase variable is not set, naming the key file and the variable', () => {
    const err = refusal(() => readClientKey({ privateKeyPath: encrypted, passphraseEnv: 'MAILLON_KEY_PASSPHRASE' }, undefined));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      `The private key ${encrypted} cannot be used: Encrypted private OpenSSH key detected, but no passphrase given. Its passphrase is read from MAILLON_KEY_PASSPHRASE (the receivers file's passphraseEnv for this key), which is not set: set it to the key's passphrase. No connection was made.`,
    );
  });

  it('refuses a wrong passphrase without ever printing it', () => {
    const wrong = 'hunter2-wrong';
    const err = refusal(() => readClientKey({ privateKeyPath: encrypted, passphraseEnv: 'MAILLON_KEY_PASSPHRASE' }, wrong));
    expect(err.message).toContain(`The private key ${encrypted} cannot be used: `);
    expect(err.message).toContain('Check the passphrase in MAILLON_KEY_PASSPHRASE');
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(PASSPHRASE);
  });

  it('refuses an encrypted key whose endpoint names no passphrase variable, a public key and a file that is no key', async () => {
    expect(refusal(() => readClientKey({ privateKeyPath: encrypted }, undefined)).message).toContain('name the environment variable that holds it as passphraseEnv');
    expect(refusal(() => readClientKey({ privateKeyPath: publicHalf }, undefined)).message).toBe(
      `The key file ${publicHalf} holds no private key (a public key?): name the private half as privateKeyPath in the receivers file. No connection was made.`,
    );
    const garbage = await write('garbage', 'not a key\n');
    expect(refusal(() => readClientKey({ privateKeyPath: garbage }, undefined)).message).toContain(`The private key ${garbage} cannot be used: Unsupported key format.`);
  });

  it("keeps ssh2's sentence whole when the passphrase is a piece of it: nothing in it hints at the passphrase", () => {
    for (const wrong of ['bad', 'e']) {
      const err = refusal(() => readClientKey({ privateKeyPath: encrypted, passphraseEnv: 'MAILLON_KEY_PASSPHRASE' }, wrong));
      expect(err.message).toContain('check failed -- bad passphrase');
      expect(err.message).not.toContain('…');
    }
  });

  it('refuses a key file that cannot be read (a folder, a file of another owner) as configuration, not as an unexpected failure', async () => {
    const folder = path.join(home.dir, 'a-folder');
    await fs.mkdir(folder, { mode: 0o700 });
    const err = refusal(() => readClientKey({ privateKeyPath: folder }, undefined));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`The private key ${folder} cannot be read: `);
  });
});
