import ssh2, { type ParsedKey } from 'ssh2';
import { ConfigError } from '../errors/errors.js';
import { type Endpoint, readPrivateKey } from './receivers.js';

/**
 * Reads an endpoint's private key and checks, before any connection, that it can be used with
 * this passphrase (as ssh2 reads it when it connects). A key that cannot be used (readable by
 * others, a missing or wrong passphrase, not a private key) is a ConfigError naming the key file
 * and the passphrase's variable, never the passphrase: retrying cannot help, the configuration must
 * change.
 */
export function readClientKey(endpoint: Pick<Endpoint, 'privateKeyPath' | 'passphraseEnv'>, passphrase: string | undefined): Buffer {
  const key = readPrivateKey(endpoint.privateKeyPath);
  // As openSftpSession hands it to ssh2: an empty passphrase is none.
  const given = passphrase ? passphrase : undefined;
  const parsed = ssh2.utils.parseKey(key, given);
  const file = endpoint.privateKeyPath;
  if (!(parsed instanceof Error)) {
    // A file may hold several keys (ssh2 uses the first).
    const first: ParsedKey | undefined = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : parsed;
    if (first?.getPrivatePEM()) return key;
    throw new ConfigError(`The key file ${file} holds no private key (a public key?): name the private half as privateKeyPath in the receivers file. No connection was made.`);
  }
  // ssh2's texts are its own fixed sentences and never hold the passphrase (looking for it in them
  // would reveal it when it is a piece of one).
  const problem = parsed.message;
  const env = endpoint.passphraseEnv;
  const fix = !env
    ? `If the key has a passphrase, name the environment variable that holds it as passphraseEnv of this endpoint in the receivers file; otherwise check that ${file} is an SSH private key (OpenSSH or PEM).`
    : given
      ? `Check the passphrase in ${env} (the receivers file's passphraseEnv for this key) and that ${file} is an SSH private key (OpenSSH or PEM).`
      : `Its passphrase is read from ${env} (the receivers file's passphraseEnv for this key), which is not set: set it to the key's passphrase.`;
  throw new ConfigError(`The private key ${file} cannot be used: ${problem.replace(/[.!?]$/, '')}. ${fix} No connection was made.`);
}
