import path from 'node:path/posix';
import { TransportError } from '../errors/errors.js';
import type { SftpSession } from './sftpSession.js';

/** A data file of a submission as the ledger knows it. */
export interface LocalPart {
  name: string;
  localPath: string;
  bytes: number;
  sha256: string;
}

/** What happened to each file on the server. */
export interface UploadTranscript {
  files: { name: string; action: 'uploaded' | 'already-there'; bytes: number }[];
  /** `consumed`: the receiver took the GO of an earlier attempt, and some or all of the files. */
  go: 'written' | 'already-there' | 'consumed';
}

/** The points of a delivery where a crash must leave a state the next attempt completes. */
export type UploadStep = 'before-upload' | 'after-upload' | 'after-rename' | 'after-go';

/** What the ledger knows of earlier attempts, and the hook that records the GO before it is written. */
export interface GoLedger {
  /** True when an earlier attempt got as far as writing the GO. */
  goStarted: boolean;
  /** Records (durably) that the GO is about to be written. */
  beforeGo(): Promise<void>;
  /** Called at each step (the crash and stop tests act there). */
  step?(step: UploadStep): void | Promise<void>;
}

/**
 * Delivers one submission into `inDir`, so that a crash at any point and a new call complete
 * it exactly once: each data file goes to a hidden temporary name, is checked (size, and sha256
 * read back), then renamed; a file already there under its final name is checked, never
 * rewritten; the empty GO file is written (temporary name, rename) only after every part is in
 * place, and never twice.
 */
export async function uploadSubmission(s: SftpSession, inDir: string, parts: readonly LocalPart[], goName: string, ledger: GoLedger): Promise<UploadTranscript> {
  const transcript: UploadTranscript = { files: [], go: 'already-there' };
  const goPath = path.join(inDir, goName);
  const already = (): void => {
    for (const p of parts) transcript.files.push({ name: p.name, action: 'already-there', bytes: p.bytes });
  };
  if (await s.exists(goPath)) {
    // A previous attempt finished; the parts were complete before the GO was written.
    already();
    return transcript;
  }
  if (ledger.goStarted && !(await allPresent(s, inDir, parts))) {
    // The GO was started only once every part was in place under its final name: a part gone
    // since means the receiver took the GO and is taking (or took) the files. Writing them or a
    // GO again would deliver the submission twice.
    already();
    transcript.go = 'consumed';
    return transcript;
  }
  for (const p of parts) transcript.files.push(await uploadPart(s, inDir, p, ledger.step));
  await ledger.beforeGo();
  const tmp = path.join(inDir, `.${goName}.part`);
  if (await s.exists(tmp)) await s.remove(tmp);
  await s.putEmpty(tmp);
  await s.rename(tmp, goPath);
  await ledger.step?.('after-go');
  transcript.go = 'written';
  return transcript;
}

/** True when every part is on the server under its final name. */
export async function allPresent(s: Pick<SftpSession, 'exists'>, inDir: string, names: readonly { name: string }[]): Promise<boolean> {
  for (const p of names) if (!(await s.exists(path.join(inDir, p.name)))) return false;
  return true;
}

async function uploadPart(s: SftpSession, inDir: string, p: LocalPart, step?: (s: UploadStep) => void | Promise<void>): Promise<UploadTranscript['files'][number]> {
  const final = path.join(inDir, p.name);
  if (await s.exists(final)) {
    await verifyRemote(s, final, p, 'is already on the server but differs from ours; it was not replaced');
    return { name: p.name, action: 'already-there', bytes: p.bytes };
  }
  const tmp = path.join(inDir, `.${p.name}.part`);
  if (await s.exists(tmp)) await s.remove(tmp);
  await step?.('before-upload');
  // The outbox file is hashed as it is read for the upload (one read instead of two); bytes that
  // differ from the ledger's never get past the temporary name.
  const sent = await s.upload(p.localPath, tmp);
  if (sent.bytes !== p.bytes || sent.sha256 !== p.sha256) {
    // Left there if it cannot be removed now: the next attempt removes a stale temporary file.
    await s.remove(tmp).catch(() => undefined);
    throw new TransportError(`The outbox file ${p.localPath} no longer matches the sha256 the ledger recorded; it was changed after it was written. Nothing was sent.`, false);
  }
  await step?.('after-upload');
  await verifyRemote(s, tmp, p, 'arrived damaged (it will be uploaded again)', true);
  await s.rename(tmp, final);
  await step?.('after-rename');
  return { name: p.name, action: 'uploaded', bytes: p.bytes };
}

async function verifyRemote(s: SftpSession, remote: string, p: LocalPart, problem: string, retryable = false): Promise<void> {
  const size = await s.size(remote);
  // Some partners' servers refuse to read files back from IN: then the size is the check.
  const sha = size === p.bytes ? await s.sha256(remote).catch((err: Error) => (/permission|denied/i.test(err.message) ? p.sha256 : Promise.reject(err))) : null;
  if (size !== p.bytes || sha !== p.sha256) {
    throw new TransportError(`${p.name} ${problem}: ${size} bytes on the server, ${p.bytes} in the ledger${sha ? ', different sha256' : ''}.`, retryable);
  }
}
