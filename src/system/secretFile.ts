import fs from 'node:fs';
import { ConfigError } from '../errors/errors.js';

/** Reads a file holding a secret (private key, PKCS#12), refusing it when group or others may read it, as OpenSSH does. */
export function readSecretFile(file: string, what: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new ConfigError(`The ${what} ${file} cannot be read: ${(err as Error).message}.`, { cause: err });
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new ConfigError(`The ${what} ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); refusing to use it. Run: chmod 600 ${file}`);
  }
  try {
    return fs.readFileSync(file);
  } catch (err) {
    // A file of another owner (a secret mounted for root, maillon running as another user), a folder…
    throw new ConfigError(`The ${what} ${file} cannot be read: ${(err as Error).message}.`, { cause: err });
  }
}
