import ssh2 from 'ssh2';

/** An SSH key pair in OpenSSH text form. */
export interface SshKeyPair {
  private: string;
  public: string;
}

const fromSsh2 = (): SshKeyPair => ssh2.utils.generateKeyPairSync('ed25519');

/** True when ssh2 reads both halves of the pair back. */
export function keyPairParses(keys: SshKeyPair): boolean {
  return !(ssh2.utils.parseKey(keys.private) instanceof Error) && !(ssh2.utils.parseKey(keys.public) instanceof Error);
}

/**
 * A new ed25519 key pair that ssh2 can read back. ssh2's own generator strips the leading zero
 * bytes of the public key (mscdex/ssh2#1390, still open in 1.17.0): about one pair in 256 comes
 * out 31 bytes long and `parseKey` calls it malformed. Such a pair is thrown away and another
 * made; sixteen bad pairs in a row (odds 2^-128) mean the generator itself is broken.
 */
export function generateEd25519KeyPair(generate: () => SshKeyPair = fromSsh2): SshKeyPair {
  for (let i = 0; i < 16; i++) {
    const keys = generate();
    if (keyPairParses(keys)) return keys;
  }
  throw new Error('Could not make an ed25519 key pair that ssh2 can read: sixteen pairs in a row were malformed.');
}
