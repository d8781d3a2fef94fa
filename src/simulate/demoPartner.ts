import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedSftpServer } from '../transport/embeddedSftpServer.js';
import { generateEd25519KeyPair, keyPairParses, type SshKeyPair } from '../transport/keyPair.js';

/** The demo's receiving side: an in-process SFTP server and the receivers file pointing at it. */
export interface DemoPartner {
  /** The partner's SFTP root on disk (IN, OUT, OUTTEST), where the simulator works. */
  root: string;
  receiversFile: string;
  close(): Promise<void>;
}

/**
 * Starts the demo partner under `<home>/demo-sftp`: keys made once (0600), an embedded SFTP
 * server on a free 127.0.0.1 port, and a receivers file pinning its host key.
 */
export async function startDemoPartner(home: string): Promise<DemoPartner> {
  const dir = path.join(home, 'demo-sftp');
  const root = path.join(dir, 'partner');
  for (const sub of ['IN', 'OUT', 'OUTTEST']) await fs.mkdir(path.join(root, sub), { recursive: true, mode: 0o700 });
  const hostKey = await keyPair(path.join(dir, 'host_ed25519'));
  const clientKey = await keyPair(path.join(dir, 'fund_ed25519'));
  const server = await startEmbeddedSftpServer({ root, hostKey: hostKey.private, authorizedKey: clientKey.public });
  const receiversFile = path.join(dir, 'receivers.json');
  await fs.writeFile(
    receiversFile,
    JSON.stringify(
      {
        '*': {
          host: '127.0.0.1',
          port: server.port,
          user: 'fund',
          privateKeyPath: path.join(dir, 'fund_ed25519'),
          hostKeyFingerprint: server.hostKeyFingerprint,
          inDir: '/IN',
          outDir: '/OUT',
          outTestDir: '/OUTTEST',
        },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  return { root, receiversFile, close: () => server.close() };
}

/** The pair kept in `file` and `file.pub`; made when missing, or when unreadable (a malformed pair made before keyPair.ts). */
async function keyPair(file: string): Promise<SshKeyPair> {
  if (existsSync(file) && existsSync(`${file}.pub`)) {
    const kept = { private: await fs.readFile(file, 'utf8'), public: await fs.readFile(`${file}.pub`, 'utf8') };
    if (keyPairParses(kept)) return kept;
  }
  const made = generateEd25519KeyPair();
  await fs.writeFile(file, made.private, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  await fs.writeFile(`${file}.pub`, made.public, { mode: 0o644 });
  return made;
}
