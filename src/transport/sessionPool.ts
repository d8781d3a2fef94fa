import { type Endpoint } from './receivers.js';
import { openSftpSession, type SftpSession, withTimeout } from './sftpSession.js';

/**
 * The SFTP sessions of one `send`: one per server, opened when first needed and kept for the
 * submissions that follow, instead of a key exchange and a login per submission. A session that
 * failed is discarded (the next attempt opens a new one); one the server closed meanwhile (an idle
 * timeout) is replaced before it is used.
 */
export interface SessionPool {
  acquire(endpoint: Endpoint, passphrase: string | undefined): Promise<SftpSession>;
  /** Closes and forgets the endpoint's session: after a failure it may be half-dead. */
  discard(endpoint: Endpoint): Promise<void>;
  /** Closes every session (each close bounded by its endpoint's timeout: a hung server never answers the goodbye). */
  closeAll(): Promise<void>;
}

type Open = (endpoint: Endpoint, passphrase: string | undefined) => Promise<SftpSession>;

export function createSessionPool(open: Open = openSftpSession): SessionPool {
  const sessions = new Map<string, { session: SftpSession; timeoutMs: number }>();
  const keyOf = (e: Endpoint): string => `${e.user}@${e.host}:${e.port} ${e.privateKeyPath} ${e.hostKeyFingerprint}`;
  const close = async (entry: { session: SftpSession; timeoutMs: number }): Promise<void> => {
    await withTimeout(entry.session.close(), entry.timeoutMs, 'closing the session').catch(() => undefined);
  };
  return {
    async acquire(endpoint, passphrase) {
      const key = keyOf(endpoint);
      const held = sessions.get(key);
      if (held && held.session.open) return held.session;
      if (held) {
        sessions.delete(key);
        await close(held);
      }
      const session = await open(endpoint, passphrase);
      sessions.set(key, { session, timeoutMs: endpoint.timeoutMs });
      return session;
    },
    async discard(endpoint) {
      const key = keyOf(endpoint);
      const held = sessions.get(key);
      sessions.delete(key);
      if (held) await close(held);
    },
    async closeAll() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map(close));
    },
  };
}
