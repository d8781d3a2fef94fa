import { describe, expect, it } from 'vitest';
import { conflictOf, type NamedFile, type ReplyFolder, type ReplyOrigin } from '../../src/ack/replyRules.js';
import type { Environment } from '../../src/domain/environment.js';
import type { ReplyHeader } from '../../src/ack/replyXml.js';

const file = (over: Partial<NamedFile> = {}): NamedFile => ({
  name: 'FI.CARR.012345.20261010.00001.T.1.1',
  submissionId: 7,
  receiver: 'OA100',
  environment: 'T',
  submissionState: 'sent',
  goStarted: true,
  ack: null,
  noti: null,
  applied: {},
  ...over,
});
/** A reply read from a folder that holds the replies of `receivers`. */
const from = (nameEnvironment: Environment, folder: ReplyFolder, receivers: readonly string[] = ['OA100']): ReplyOrigin => ({
  server: `maillon@channel:22/${folder}`,
  folder,
  nameEnvironment,
  receivers,
});
const acrf = (accepted: boolean): ReplyHeader => ({ kind: 'ACRF', fileName: 'F', accepted, errorIds: [] });
const noti = (result: 'accepted' | 'accepted_with_anomalies' | 'rejected'): ReplyHeader => ({ kind: 'NOTI', fileName: 'F', result, anomalies: 0 });

describe('conflictOf', () => {
  it('believes a reply whose name, folder and file agree on the environment: R in OUT, T and S in OUTTEST', () => {
    expect(conflictOf(acrf(true), from('R', 'OUT'), file({ environment: 'R' }))).toBeNull();
    expect(conflictOf(acrf(true), from('T', 'OUTTEST'), file({ environment: 'T' }))).toBeNull();
    expect(conflictOf(acrf(true), from('S', 'OUTTEST'), file({ environment: 'S' }))).toBeNull();
  });

  it.each([
    ['R', 'OUTTEST', 'R', /its name says environment R but it came from OUTTEST, which holds T and S replies only/],
    ['S', 'OUT', 'S', /its name says environment S but it came from OUT, which holds R replies only/],
    ['T', 'OUTTEST', 'R', /its name says environment T but the file it names, .*, was sent in environment R/],
    ['S', 'OUTTEST', 'T', /its name says environment S but the file it names, .*, was sent in environment T/],
    ['R', 'OUT', 'T', /its name says environment R but the file it names, .*, was sent in environment T/],
  ] as const)('does not believe a %s reply from %s about a %s file', (nameEnv, folder, fileEnv, reason) => {
    expect(conflictOf(acrf(true), from(nameEnv, folder), file({ environment: fileEnv }))).toMatch(reason);
  });

  it("believes a reply about a file of any receiver its folder serves, and not one about another receiver's file", () => {
    const shared = from('T', 'OUTTEST', ['OA100', 'OA200', 'OA300']);
    expect(conflictOf(acrf(false), shared, file({ receiver: 'OA200' }))).toBeNull();
    expect(conflictOf(acrf(false), from('T', 'OUTTEST', ['OA100']), file({ receiver: 'OA200' }))).toBe(
      'Wrong receiver: it came from maillon@channel:22/OUTTEST, which holds the replies of OA100 only, but the file it names, FI.CARR.012345.20261010.00001.T.1.1, ' +
        'was sent to OA200. It was not believed; check the receivers file if OA200 really answers there.',
    );
    const many = Array.from({ length: 8 }, (_, i) => `OA${i + 1}00`);
    expect(conflictOf(noti('rejected'), from('T', 'OUTTEST', many), file({ receiver: 'OA900' }))).toMatch(
      /holds the replies of OA100, OA200, OA300, OA400, OA500 and 3 other receivers only, .* was sent to OA900\./,
    );
  });

  it('sets aside duplicates and contradictions of what a file already received', () => {
    expect(conflictOf(acrf(true), from('T', 'OUTTEST'), file({ ack: 'received', applied: { ACRF: 'FO.ACRF.X' } }))).toBe(
      'Duplicate: the ACRF of FI.CARR.012345.20261010.00001.T.1.1 was already applied (FO.ACRF.X), saying the same (received).',
    );
    expect(conflictOf(acrf(false), from('T', 'OUTTEST'), file({ ack: 'received' }))).toMatch(/^Contradiction: this ACRF says rejected but the ACRF already applied/);
    expect(conflictOf(acrf(true), from('T', 'OUTTEST'), file({ noti: 'accepted' }))).toMatch(/^Contradiction: an ACRF after the NOTI/);
    expect(conflictOf(noti('accepted'), from('T', 'OUTTEST'), file({ noti: 'accepted' }))).toMatch(/^Duplicate: the NOTI/);
    expect(conflictOf(noti('rejected'), from('T', 'OUTTEST'), file({ noti: 'accepted' }))).toMatch(/^Contradiction: this NOTI says rejected but the NOTI already applied .* said accepted/);
    expect(conflictOf(noti('accepted'), from('T', 'OUTTEST'), file({ ack: 'rejected' }))).toMatch(/rejected on reception; a rejected file is never processed/);
    expect(conflictOf(noti('accepted'), from('T', 'OUTTEST'), file({ ack: 'received' }))).toBeNull();
  });

  it.each(['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'])('never lets a reply touch a %s submission', (state) => {
    expect(conflictOf(noti('accepted'), from('T', 'OUTTEST'), file({ submissionState: state }))).toMatch(new RegExp(`Submission 7 of .* is already ${state}, a final state`));
  });

  it('does not believe a reply about a submission that was never sent; one whose GO was started may be answered', () => {
    expect(conflictOf(acrf(true), from('T', 'OUTTEST'), file({ submissionState: 'written', goStarted: false }))).toMatch(/was never sent/);
    expect(conflictOf(acrf(true), from('T', 'OUTTEST'), file({ submissionState: 'written', goStarted: true }))).toBeNull();
  });

  it('calls a second reply a duplicate only when it says the same; otherwise a contradiction that counts what it adds', () => {
    const notified = file({ ack: 'received', noti: 'accepted_with_anomalies', applied: { NOTI: 'N1' } });
    expect(conflictOf(noti('accepted_with_anomalies'), from('T', 'OUTTEST'), { ...notified, repetition: { same: true, added: 0, addedBlocking: 0 } })).toMatch(/^Duplicate: /);
    expect(conflictOf(noti('accepted_with_anomalies'), from('T', 'OUTTEST'), { ...notified, repetition: { same: false, added: 3, addedBlocking: 2 } })).toMatch(
      /^Contradiction: .* not with the same anomalies; its result changes nothing\. It carries 2 new blocking anomalies and 1 other new anomaly, recorded/,
    );
    const rejected = file({ ack: 'rejected', applied: { ACRF: 'A1' } });
    expect(conflictOf(acrf(false), from('T', 'OUTTEST'), { ...rejected, repetition: { same: false, added: 2, addedBlocking: 0 } })).toMatch(
      /^Contradiction: this ACRF says rejected, as the ACRF already applied to .* \(A1\) did, but not for the same reasons: it gives 2 error ids that one did not give\./,
    );
    expect(conflictOf(acrf(false), from('T', 'OUTTEST'), { ...rejected, repetition: { same: true, added: 0, addedBlocking: 0 } })).toMatch(/^Duplicate: /);
  });
});
