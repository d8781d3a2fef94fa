import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readSecretFile } from '../system/secretFile.js';
import { ConfigError } from '../errors/errors.js';

const endpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  /** Private key file (OpenSSH or PEM); refused when readable by group or others. */
  privateKeyPath: z.string().min(1),
  /** Name of the environment variable holding the key's passphrase, if it has one. */
  passphraseEnv: z.string().min(1).optional(),
  /** Pinned host key: `SHA256:…` as printed by `ssh-keygen -lf`. */
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be SHA256:<43 base64 characters>, as ssh-keygen -lf prints it'),
  inDir: z.string().min(1).default('IN'),
  outDir: z.string().min(1).default('OUT'),
  outTestDir: z.string().min(1).default('OUTTEST'),
  /** Per-operation timeout, ms. */
  timeoutMs: z.number().int().min(100).default(30_000),
  retries: z.number().int().min(0).max(20).default(4),
});

/** How to reach one receiver's SFTP server. */
export type Endpoint = z.infer<typeof endpointSchema>;

const fileSchema = z.record(z.string(), endpointSchema);

/**
 * The receivers' endpoints, from a JSON file: `{ "<receiver id>": { host, port, user, … } }`,
 * with `"*"` as the endpoint of every receiver not listed (e.g. one channel operator for all).
 */
export interface Endpoints {
  forReceiver(receiver: string): Endpoint;
}

/** Loads and validates the endpoints file; every problem is a ConfigError naming the file. */
export function loadEndpoints(file: string): Endpoints {
  let raw: unknown;
  try {
    // It pins the receivers' host keys: like OpenSSH with ~/.ssh/config, refuse a file others may change.
    const mode = fs.statSync(file).mode;
    if ((mode & 0o022) !== 0) {
      throw new ConfigError(`The receivers file ${file} can be changed by others (mode ${(mode & 0o777).toString(8)}); it pins the receivers' host keys, so it is refused. Run: chmod go-w ${file}`);
    }
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`Cannot read the receivers file ${file}: ${(err as Error).message}.`, { cause: err });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`The receivers file ${file} is invalid: ${lines.join('; ')}.`);
  }
  const base = path.dirname(file);
  const endpoints = Object.fromEntries(Object.entries(parsed.data).map(([k, e]) => [k, { ...e, privateKeyPath: path.resolve(base, e.privateKeyPath) }]));
  return {
    forReceiver(receiver) {
      const e = endpoints[receiver] ?? endpoints['*'];
      if (!e) throw new ConfigError(`The receivers file ${file} has no endpoint for ${receiver} (and no "*" default): add one for ${receiver} there; its submissions are sent by the next send.`);
      return e;
    },
  };
}

/** Reads a private key, refusing it when group or others may read it (as OpenSSH does). */
export function readPrivateKey(keyPath: string): Buffer {
  return readSecretFile(keyPath, 'private key');
}
