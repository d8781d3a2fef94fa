import { createHash } from 'node:crypto';

/** The `SHA256:…` fingerprint of a raw SSH host key blob, as `ssh-keygen -lf` prints it. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
