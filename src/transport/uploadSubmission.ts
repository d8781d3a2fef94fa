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
  /** `consumed`: the receiver took the GO of an earlier attempt (its data files may still be there, being read). */
  go: 'written' | 'already-there' | 'consumed';
}

/**
 * The points of a delivery where a crash must leave a state the next attempt completes;
 * `before-go-rename`: the GO is on the server under its temporary name and recorded as started,
 * not yet renamed.
 */
export type UploadStep = 'before-upload' | 'after-upload' | 'after-rename' | 'before-go-rename' | 'after-go';

/** What the ledger knows of earlier attempts, and the hook that records the GO before it is written. */
export interface GoLedger {
  /** True when an earlier attempt got as far as starting the GO (its temporary file was complete). */
  goStarted: boolean;
  /**
   * True for a GO started by a maillon before ledger migration 150, which recorded it before
   * writing its temporary file: absent from the server, it may never have been written.
   */
  goMaybeUnwritten?: boolean;
  /**
   * Called once it is known that the receiver neither has the GO nor took it, before anything is
   * written or renamed: a throw leaves the server as it is (a period closed meanwhile).
   */
  beforeDelivering?(): void | Promise<void>;
  /** Records (durably) that the GO is written under its temporary name and about to be renamed. */
  beforeGo(): Promise<void>;
  /** Called at each step (the crash and stop tests act there). */
  step?(step: UploadStep): void | Promise<void>;
}

/**
 * Delivers one submission into `inDir`, so that a crash at any point and a new call complete
 * it exactly once: each data file goes to a hidden temporary name, is checked (size, and sha256
 * read back), then renamed; a file already there under its final name is checked, never
 * rewritten. Once every part is in place, the empty GO file is written under its temporary name,
 * recorded as started (`beforeGo`), then renamed (docs/decisions/0206-go-written-before-it-is-recorded.md).
 * So on a later attempt a GO started and absent is either still under its temporary name (never
 * renamed: renamed now) or was renamed and taken by the receiver (`consumed`: never written twice).
 */
export async function uploadSubmission(s: SftpSession, inDir: string, parts: readonly LocalPart[], goName: string, ledger: GoLedger): Promise<UploadTranscript> {
  const transcript: UploadTranscript = { files: [], go: 'already-there' };
  const goPath = path.join(inDir, goName);
  const tmp = path.join(inDir, `.${goName}.part`);
  const already = (): void => {
    for (const p of parts) transcript.files.push({ name: p.name, action: 'already-there', bytes: p.bytes });
  };
  if (await s.exists(goPath)) {
    // A previous attempt finished; the parts were complete before the GO was written.
    already();
    return transcript;
  }
  const staged = ledger.goStarted && Boolean(await s.exists(tmp));
  if (ledger.goStarted && !staged && !(ledger.goMaybeUnwritten && (await allPresent(s, inDir, parts)))) {
    // The GO was started with its temporary file complete, and renamed after: neither name on
    // the server means the receiver took the GO (its data files may still be there, being
    // read). Writing them or a GO again would deliver the submission twice. (A GO started by an
    // earlier maillon may never have been written: it is written when every part still waits.)
    already();
    transcript.go = 'consumed';
    return transcript;
  }
  await ledger.beforeDelivering?.();
  for (const p of parts) transcript.files.push(await uploadPart(s, inDir, p, ledger.step));
  if (!staged) {
    // A temporary GO of an attempt killed before it was recorded as started: never renamed.
    if (await s.exists(tmp)) await s.remove(tmp);
    await s.putEmpty(tmp);
    if (!ledger.goStarted) await ledger.beforeGo();
  }
  await ledger.step?.('before-go-rename');
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
