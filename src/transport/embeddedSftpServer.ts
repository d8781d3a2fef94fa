import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { hostKeyFingerprint } from './hostKey.js';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Ways the embedded server can misbehave on purpose (fault tests only); each fault fires once, then clears itself (but listedNames). */
export interface SftpFaults {
  /**
   * Names every directory listing shows first, as regular files of 10 bytes that cannot be opened:
   * names no file system holds (a NUL byte, thousands of characters), which only a hostile or
   * broken server lists. Shown in every listing, not once.
   */
  listedNames?: readonly string[];
  /** Drop the connection once this many bytes of a data file were received. */
  dropAfterBytes?: number;
  /** Never answer WRITE requests (a stalled server). */
  stallWrites?: boolean;
  /** Answer every RENAME with a failure. */
  failRename?: boolean;
  /** Refuse every public key. */
  refuseAuth?: boolean;
}

/** A running in-process SFTP server (ssh2), serving a folder, for the demo and the fault tests. */
export interface EmbeddedSftpServer {
  port: number;
  hostKeyFingerprint: string;
  /** Number of connections accepted so far. */
  connections(): number;
  /** Ends every open connection (fault tests: a server that drops its clients); clears a stall. */
  dropConnections(): void;
  /** Stops answering reads and writes on every connection until dropConnections (fault tests: a hung server). */
  stallConnections(): void;
  close(): Promise<void>;
}

/**
 * Starts an SFTP server on 127.0.0.1 (free port) that serves `root` (paths are resolved inside
 * it; nothing outside is reachable) and accepts one public key. It implements what maillon uses:
 * open/read/write/close, stat, rename, remove, directory listing.
 */
export async function startEmbeddedSftpServer(opts: { root: string; hostKey: string | Buffer; authorizedKey: string | Buffer; faults?: SftpFaults }): Promise<EmbeddedSftpServer> {
  const allowed = utils.parseKey(opts.authorizedKey);
  if (allowed instanceof Error) throw allowed;
  const host = utils.parseKey(opts.hostKey);
  if (host instanceof Error) throw host;
  const fingerprint = hostKeyFingerprint(host.getPublicSSH());
  let connections = 0;
  const clients = new Set<ssh2.Connection>();
  const live = { stalled: false };
  const server = new Server({ hostKeys: [opts.hostKey] }, (client) => {
    connections++;
    clients.add(client);
    // Without it every SFTP round trip waits for a delayed ACK.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const ok = !opts.faults?.refuseAuth && ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH());
      if (!ok) return ctx.reject(['publickey']);
      if (ctx.method === 'publickey' && ctx.signature && ctx.blob && !allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('sftp', (acceptSftp) => serveSftp(acceptSftp(), opts.root, opts.faults ?? {}, () => client.end(), live));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    hostKeyFingerprint: fingerprint,
    connections: () => connections,
    dropConnections() {
      live.stalled = false;
      for (const c of clients) c.end();
    },
    stallConnections() {
      live.stalled = true;
    },
    close: () =>
      new Promise((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}

function serveSftp(sftp: ssh2.SFTPWrapper, root: string, faults: SftpFaults, drop: () => void, live: { stalled: boolean }): void {
  const handles = new Map<number, { fd?: number; dir?: string[]; listed?: string[]; written: number }>();
  let next = 1;
  // Served from "/" too (the tests' stand-in for OpenSSH, which has no chroot there).
  const inside = root.endsWith(path.sep) ? root : `${root}${path.sep}`;
  const resolve = (p: string): string | null => {
    const full = path.resolve(root, `.${path.posix.resolve('/', p)}`);
    return full === root || full.startsWith(inside) ? full : null;
  };
  const handle = (id: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const get = (b: Buffer) => handles.get(b.length === 4 ? b.readUInt32BE(0) : -1);
  const fail = (reqid: number, err: unknown): void => {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE;
    sftp.status(reqid, code);
  };
  const attrs = (st: fs.Stats) => ({ mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });
  sftp.on('OPEN', (reqid, filename, flags) => {
    const full = resolve(filename);
    if (!full) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    try {
      const mode = flags & OPEN_MODE.WRITE ? (flags & OPEN_MODE.APPEND ? 'a' : flags & OPEN_MODE.EXCL ? 'wx' : 'w') : 'r';
      const id = next++;
      handles.set(id, { fd: fs.openSync(full, mode, 0o644), written: 0 });
      sftp.handle(reqid, handle(id));
    } catch (err) {
      fail(reqid, err);
    }
  });
  sftp.on('WRITE', (reqid, h, offset, data) => {
    if (live.stalled) return;
    const f = get(h);
    if (!f?.fd) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (faults.stallWrites) {
      delete faults.stallWrites;
      return;
    }
    fs.writeSync(f.fd, data, 0, data.length, offset);
    f.written += data.length;
    if (faults.dropAfterBytes !== undefined && f.written >= faults.dropAfterBytes) {
      delete faults.dropAfterBytes;
      return drop();
    }
    sftp.status(reqid, STATUS_CODE.OK);
  });
  sftp.on('READ', (reqid, h, offset, length) => {
    if (live.stalled) return;
    const f = get(h);
    if (!f?.fd) return sftp.status(reqid, STATUS_CODE.FAILURE);
    const buf = Buffer.alloc(length);
    const n = fs.readSync(f.fd, buf, 0, length, offset);
    if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
    sftp.data(reqid, buf.subarray(0, n));
  });
  sftp.on('FSTAT', (reqid, h) => {
    const f = get(h);
    if (!f?.fd) return sftp.status(reqid, STATUS_CODE.FAILURE);
    sftp.attrs(reqid, attrs(fs.fstatSync(f.fd)));
  });
  sftp.on('CLOSE', (reqid, h) => {
    const f = get(h);
    if (f?.fd !== undefined) fs.closeSync(f.fd);
    if (h.length === 4) handles.delete(h.readUInt32BE(0));
    sftp.status(reqid, STATUS_CODE.OK);
  });
  const stat = (reqid: number, p: string): void => {
    const full = resolve(p);
    if (!full) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    try {
      sftp.attrs(reqid, attrs(fs.statSync(full)));
    } catch (err) {
      fail(reqid, err);
    }
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('REALPATH', (reqid, p) => {
    const abs = path.posix.resolve('/', p);
    sftp.name(reqid, [{ filename: abs, longname: abs, attrs: {} as ssh2.Attributes }]);
  });
  sftp.on('RENAME', (reqid, from, to) => {
    const a = resolve(from);
    const b = resolve(to);
    if (faults.failRename) {
      delete faults.failRename;
      return sftp.status(reqid, STATUS_CODE.FAILURE);
    }
    if (!a || !b) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (fs.existsSync(b)) return sftp.status(reqid, STATUS_CODE.FAILURE); // SFTP v3: no rename onto an existing name
    try {
      fs.renameSync(a, b);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      fail(reqid, err);
    }
  });
  sftp.on('REMOVE', (reqid, p) => {
    const full = resolve(p);
    if (!full) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    try {
      fs.unlinkSync(full);
      sftp.status(reqid, STATUS_CODE.OK);
    } catch (err) {
      fail(reqid, err);
    }
  });
  sftp.on('OPENDIR', (reqid, p) => {
    const full = resolve(p);
    if (!full) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    try {
      const id = next++;
      handles.set(id, { dir: fs.readdirSync(full).map((n) => path.join(full, n)), listed: [...(faults.listedNames ?? [])], written: 0 });
      sftp.handle(reqid, handle(id));
    } catch (err) {
      fail(reqid, err);
    }
  });
  sftp.on('READDIR', (reqid, h) => {
    const d = get(h);
    if (!d?.dir) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (d.dir.length === 0 && !d.listed?.length) return sftp.status(reqid, STATUS_CODE.EOF);
    const fake = (d.listed ?? []).splice(0).map((n) => ({
      filename: n,
      longname: `-rw-r--r-- 1 maillon maillon 10 Jan 1 00:00 ${n}`,
      attrs: { mode: 0o100644, uid: 0, gid: 0, size: 10, atime: 0, mtime: 0 },
    }));
    const batch = d.dir.splice(0, 100);
    sftp.name(reqid, [
      ...fake,
      ...batch.map((f) => ({
        filename: path.basename(f),
        longname: `${fs.statSync(f).isDirectory() ? 'd' : '-'}rw-r--r-- 1 maillon maillon ${fs.statSync(f).size} Jan 1 00:00 ${path.basename(f)}`,
        attrs: attrs(fs.statSync(f)),
      })),
    ]);
  });
}
