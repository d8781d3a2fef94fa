import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors/errors.js';
import { openSftpSession, type SftpSession } from '../../src/transport/sftpSession.js';
import { type LocalPart, type UploadStep, uploadSubmission } from '../../src/transport/uploadSubmission.js';
import { scratchDir } from '../helpers/runHarness.js';
import { requireTestSshd, type TestSshd } from '../helpers/sshd.js';

const NAME = 'FI.CARR.012345.20261010.00001.T.1.1';
const GO = 'GO.CARR.012345.20261010.00001.T.1';

describe('uploading one submission to a real OpenSSH server', () => {
  let sshd: TestSshd;
  let session: SftpSession;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const inDir = (): string => path.join(sshd.root, 'IN');

  async function part(content: string, ledgerContent = content): Promise<LocalPart> {
    const localPath = path.join(scratch.dir, NAME);
    await fs.writeFile(localPath, content);
    return { name: NAME, localPath, bytes: Buffer.byteLength(ledgerContent), sha256: createHash('sha256').update(ledgerContent).digest('hex') };
  }

  beforeAll(async () => {
    sshd = await requireTestSshd();
    scratch = await scratchDir('upload');
    session = await openSftpSession(
      {
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        privateKeyPath: sshd.privateKeyPath,
        hostKeyFingerprint: sshd.hostKeyFingerprint,
        inDir: inDir(),
        outDir: 'OUT',
        outTestDir: 'OUTTEST',
        timeoutMs: 5000,
        retries: 0,
      },
      undefined,
    );
  });
  afterEach(async () => {
    for (const n of await fs.readdir(inDir())) await fs.rm(path.join(inDir(), n), { force: true });
  });
  afterAll(async () => {
    await session?.close();
    await sshd?.stop();
    await scratch?.remove();
  });

  it('uploads under a temporary name, checks it, renames it and writes the GO last: under its temporary name, recorded as started, renamed', async () => {
    const steps: UploadStep[] = [];
    const p = await part('<Records>one</Records>\n');
    let atStart: string[] = [];
    const beforeGo = async (): Promise<void> => void (atStart = (await fs.readdir(inDir())).sort());
    const transcript = await uploadSubmission(session, inDir(), [p], GO, { goStarted: false, beforeGo, step: (s) => void steps.push(s) });
    expect(transcript).toEqual({ files: [{ name: NAME, action: 'uploaded', bytes: p.bytes }], go: 'written' });
    expect(steps).toEqual(['before-upload', 'after-upload', 'after-rename', 'before-go-rename', 'after-go']);
    // When the ledger records the GO as started, its temporary file is complete and the GO not yet there.
    expect(atStart).toEqual([`.${GO}.part`, NAME]);
    expect((await fs.readdir(inDir())).sort()).toEqual([NAME, GO]);
    expect(await fs.readFile(path.join(inDir(), NAME), 'utf8')).toBe('<Records>one</Records>\n');
  });

  it('a GO started earlier, gone since with one of two parts: the receiver is taking them, nothing is uploaded or written again', async () => {
    const first = { ...(await part('<Records>one</Records>\n')), name: 'FI.CARR.012345.20261010.00001.T.1.2' };
    const second = { ...first, name: 'FI.CARR.012345.20261010.00001.T.2.2' };
    const go = 'GO.CARR.012345.20261010.00001.T.2';
    // A send killed after its GO; the receiver then took the GO and the first part.
    await fs.writeFile(path.join(inDir(), second.name), '<Records>one</Records>\n');
    const transcript = await uploadSubmission(session, inDir(), [first, second], go, { goStarted: true, beforeGo: () => Promise.reject(new Error('no second GO')) });
    expect(transcript.go).toBe('consumed');
    expect(transcript.files.map((f) => f.action)).toEqual(['already-there', 'already-there']);
    expect(await fs.readdir(inDir())).toEqual([second.name]);
  });

  it('a GO started earlier, under neither name on the server, every part still there: the receiver took the GO, it is not written again', async () => {
    const p = await part('<Records>one</Records>\n');
    // A send killed after its GO; the receiver took the GO and has not taken the data file yet.
    await fs.writeFile(path.join(inDir(), NAME), '<Records>one</Records>\n');
    const transcript = await uploadSubmission(session, inDir(), [p], GO, { goStarted: true, beforeGo: () => Promise.reject(new Error('no second GO')) });
    expect(transcript).toEqual({ files: [{ name: NAME, action: 'already-there', bytes: p.bytes }], go: 'consumed' });
    expect(await fs.readdir(inDir())).toEqual([NAME]);
  });

  it('a GO started earlier and still under its temporary name (killed before the rename): renamed, never written twice', async () => {
    const p = await part('<Records>one</Records>\n');
    await fs.writeFile(path.join(inDir(), NAME), '<Records>one</Records>\n');
    await fs.writeFile(path.join(inDir(), `.${GO}.part`), '');
    const transcript = await uploadSubmission(session, inDir(), [p], GO, { goStarted: true, beforeGo: () => Promise.reject(new Error('already started')) });
    expect(transcript).toEqual({ files: [{ name: NAME, action: 'already-there', bytes: p.bytes }], go: 'written' });
    expect((await fs.readdir(inDir())).sort()).toEqual([NAME, GO]);
  });

  it('a GO started by a maillon before ledger migration 150 (recorded before its temporary file) and not on the server, every part still there: it may never have been written, it is written', async () => {
    const p = await part('<Records>one</Records>\n');
    await fs.writeFile(path.join(inDir(), NAME), '<Records>one</Records>\n');
    const transcript = await uploadSubmission(session, inDir(), [p], GO, { goStarted: true, goMaybeUnwritten: true, beforeGo: () => Promise.resolve() });
    expect(transcript).toEqual({ files: [{ name: NAME, action: 'already-there', bytes: p.bytes }], go: 'written' });
    expect((await fs.readdir(inDir())).sort()).toEqual([NAME, GO]);
  });

  it('uploads again a file the server damaged: the read-back checks every byte against the ledger', async () => {
    const p = await part('<Records>one</Records>\n');
    // The server's copy changes after the upload (a byte flipped, the same length): only the read-back can see it.
    const damage = async (step: UploadStep): Promise<void> => {
      if (step === 'after-upload') await fs.writeFile(path.join(inDir(), `.${NAME}.part`), '<Records>ona</Records>\n');
    };
    const failure = await uploadSubmission(session, inDir(), [p], GO, { goStarted: false, beforeGo: () => Promise.resolve(), step: damage }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportError);
    expect(failure).toMatchObject({ retryable: true, message: `${NAME} arrived damaged (it will be uploaded again): 23 bytes on the server, 23 in the ledger, different sha256.` });
    // Nothing under its final name, no GO; the next attempt puts it right.
    expect(await fs.readdir(inDir())).toEqual([`.${NAME}.part`]);
    const transcript = await uploadSubmission(session, inDir(), [p], GO, { goStarted: false, beforeGo: () => Promise.resolve() });
    expect(transcript.files).toEqual([{ name: NAME, action: 'uploaded', bytes: p.bytes }]);
    expect(await fs.readFile(path.join(inDir(), NAME), 'utf8')).toBe('<Records>one</Records>\n');
  });

  it('refuses a file already on the server under its final name that differs from the ledger; not replaced, not retried', async () => {
    const p = await part('<Records>one</Records>\n');
    await fs.writeFile(path.join(inDir(), NAME), '<Records>two</Records>\n');
    const failure = await uploadSubmission(session, inDir(), [p], GO, { goStarted: false, beforeGo: () => Promise.resolve() }).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      retryable: false,
      message: `${NAME} is already on the server but differs from ours; it was not replaced: 23 bytes on the server, 23 in the ledger, different sha256.`,
    });
    expect(await fs.readFile(path.join(inDir(), NAME), 'utf8')).toBe('<Records>two</Records>\n');
    // No temporary file, no GO.
    expect(await fs.readdir(inDir())).toEqual([NAME]);
  });

  it('refuses an outbox file changed after the ledger recorded it: not retried, nothing left on the server', async () => {
    // The file is hashed as it is uploaded: the mismatch is found after the upload, and the
    // temporary file never becomes the real one.
    const p = await part('<Records>tampered</Records>\n', '<Records>original</Records>\n');
    const failure = await uploadSubmission(session, inDir(), [p], GO, { goStarted: false, beforeGo: () => Promise.resolve() }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportError);
    expect(failure).toMatchObject({ retryable: false, message: expect.stringMatching(/no longer matches the sha256 the ledger recorded.*Nothing was sent\.$/) });
    expect(await fs.readdir(inDir())).toEqual([]);
  });
});
