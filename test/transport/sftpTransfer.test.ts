import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putHashed, readHashed, TRANSFER_CHUNK, TRANSFER_DEPTH } from '../../src/transport/sftpTransfer.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd } from '../helpers/sshd.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * The SFTP session's own, holding back the answers to one kind of request until TRANSFER_DEPTH
 * of them are in flight (or the last byte of the file was asked for): a transfer that waits for
 * each answer before the next request never gets there, and the test times out.
 */
function holding(sftp: SFTPWrapper, method: 'read' | 'write', size: number): { sftp: SFTPWrapper; most: () => number } {
  let most = 0;
  let held: (() => void)[] = [];
  const release = (): void => {
    const now = held;
    held = [];
    for (const answer of now) answer();
  };
  const wrapped = new Proxy(sftp, {
    get(target, prop, receiver) {
      if (prop !== method) return Reflect.get(target, prop, receiver);
      return (handle: Buffer, buffer: Buffer, offset: number, length: number, position: number, cb: (...r: unknown[]) => void) => {
        (target[method] as (...a: unknown[]) => void).call(target, handle, buffer, offset, length, position, (...r: unknown[]) => {
          held.push(() => cb(...r));
          most = Math.max(most, held.length);
          if (held.length === TRANSFER_DEPTH || position + length >= size) release();
        });
      };
    },
  });
  return { sftp: wrapped, most: () => most };
}

describe('pipelined SFTP transfers to a real OpenSSH server', () => {
  let sshd: TestSshd;
  let client: SftpClient;
  let sftp: SFTPWrapper;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const remote = (name: string): string => path.join(sshd.root, 'IN', name);

  beforeAll(async () => {
    sshd = await requireTestSshd();
    scratch = await scratchDir('transfer');
    client = new SftpClient();
    sftp = await client.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: await fs.readFile(sshd.privateKeyPath) });
  });
  afterAll(async () => {
    await client?.end();
    await sshd?.stop();
    await scratch?.remove();
  });

  it('uploads a file larger than the pipeline with writes in flight together, and returns the sha256 of what it sent', async () => {
    // Two and a half times what the pipeline holds, with a short last chunk.
    const content = randomBytes(TRANSFER_DEPTH * TRANSFER_CHUNK * 2 + TRANSFER_CHUNK / 2 + 7);
    const local = path.join(scratch.dir, 'big.xml');
    await fs.writeFile(local, content);
    const w = holding(sftp, 'write', content.length);
    let progress = 0;
    const sent = await putHashed(w.sftp, local, remote('big.xml'), () => progress++);
    expect(sent).toEqual({ bytes: content.length, sha256: sha(content) });
    expect((await fs.readFile(remote('big.xml'))).equals(content)).toBe(true);
    expect(w.most()).toBe(TRANSFER_DEPTH);
    expect(progress).toBe(Math.ceil(content.length / TRANSFER_CHUNK));
  });

  it('reads a file back whole with reads in flight together, hashing it in order', async () => {
    const content = randomBytes(TRANSFER_DEPTH * TRANSFER_CHUNK * 2 + 12_345);
    await fs.writeFile(remote('back.xml'), content);
    const r = holding(sftp, 'read', content.length);
    const read = await readHashed(r.sftp, remote('back.xml'), () => undefined);
    expect(read).toEqual({ bytes: content.length, sha256: sha(content) });
    expect(r.most()).toBe(TRANSFER_DEPTH);
  });

  it('moves an empty file', async () => {
    const local = path.join(scratch.dir, 'empty');
    await fs.writeFile(local, '');
    const empty = { bytes: 0, sha256: sha(Buffer.alloc(0)) };
    expect(await putHashed(sftp, local, remote('empty'), () => undefined)).toEqual(empty);
    expect((await fs.stat(remote('empty'))).size).toBe(0);
    expect(await readHashed(sftp, remote('empty'), () => undefined)).toEqual(empty);
  });

  it('fails, without hanging, on a file the server cannot open', async () => {
    await expect(readHashed(sftp, remote('missing'), () => undefined)).rejects.toThrow(/no such file/i);
    await expect(putHashed(sftp, path.join(scratch.dir, 'big.xml'), path.join(sshd.root, 'nowhere', 'x'), () => undefined)).rejects.toThrow(/no such file/i);
  });
});
