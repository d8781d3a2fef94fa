import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair, keyPairParses, type SshKeyPair } from '../../src/transport/keyPair.js';

/** A real pair from ssh2's generator that its own parser refuses (about one in 256, mscdex/ssh2#1390). */
function malformedPairFromSsh2(): SshKeyPair {
  for (let i = 0; i < 50_000; i++) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    if (!keyPairParses(keys)) return keys;
  }
  throw new Error('ssh2 made no malformed pair in 50,000: the upstream bug is fixed, and keyPair.ts can go');
}

describe('ed25519 key pairs', () => {
  it('a malformed pair from ssh2 is thrown away and the next one returned', () => {
    const bad = malformedPairFromSsh2();
    const good = generateEd25519KeyPair();
    const made = [bad, bad, good];
    let calls = 0;
    const keys = generateEd25519KeyPair(() => made[calls++]!);
    expect(calls).toBe(3);
    expect(keys).toBe(good);
    expect(ssh2.utils.parseKey(keys.private)).not.toBeInstanceOf(Error);
  });

  it('a generator that only makes malformed pairs is an error, not a loop', () => {
    const bad = malformedPairFromSsh2();
    expect(() => generateEd25519KeyPair(() => bad)).toThrow(/sixteen pairs in a row were malformed/);
  });

  it('pairs from the default generator sign and verify', () => {
    for (let i = 0; i < 300; i++) {
      const keys = generateEd25519KeyPair();
      const priv = ssh2.utils.parseKey(keys.private) as ssh2.ParsedKey;
      const pub = ssh2.utils.parseKey(keys.public) as ssh2.ParsedKey;
      const data = Buffer.from(`pair ${i}`);
      expect(pub.verify(data, priv.sign(data))).toBe(true);
    }
  });
});
