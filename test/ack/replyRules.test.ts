import { describe, expect, it } from 'vitest';
import { conflictOf, type NamedFile } from '../../src/ack/replyRules.js';
import type { ReplyHeader } from '../../src/ack/replyXml.js';

const file = (over: Partial<NamedFile> = {}): NamedFile => ({
  name: 'FI.CARR.012345.20261010.00001.T.1.1',
  submissionId: 7,
  environment: 'T',
  submissionState: 'sent',
  goStarted: true,
  ack: null,
  noti: null,
  applied: {},
  ...over,
});
const acrf = (accepted: boolean): ReplyHeader => ({ kind: 'ACRF', fileName: 'F', accepted, errorIds: [] });
const noti = (result: 'accepted' | 'accepted_with_anomalies' | 'rejected'): ReplyHeader => ({ kind: 'NOTI', fileName: 'F', result, anomalies: 0 });

describe('conflictOf', () => {
  it('believes a reply whose name, folder and file agree on the environment: R in OUT, T and S in OUTTEST', () => {
    expect(conflictOf(acrf(true), 'R', 'OUT', file({ environment: 'R' }))).toBeNull();
    expect(conflictOf(acrf(true), 'T', 'OUTTEST', file({ environment: 'T' }))).toBeNull();
    expect(conflictOf(acrf(true), 'S', 'OUTTEST', file({ environment: 'S' }))).toBeNull();
  });

  it.each([
    ['R', 'OUTTEST', 'R', /its name says environment R but it came from OUTTEST, which holds T and S replies only/],
    ['S', 'OUT', 'S', /its name says environment S but it came from OUT, which holds R replies only/],
    ['T', 'OUTTEST', 'R', /its name says environment T but the file it names, .*, was sent in environment R/],
    ['S', 'OUTTEST', 'T', /its name says environment S but the file it names, .*, was sent in environment T/],
    ['R', 'OUT', 'T', /its name says environment R but the file it names, .*, was sent in environment T/],
  ] as const)('does not believe a %s reply from %s about a %s file', (nameEnv, folder, fileEnv, reason) => {
    expect(conflictOf(acrf(true), nameEnv, folder, file({ environment: fileEnv }))).toMatch(reason);
  });

  it('sets aside duplicates and contradictions of what a file already received', () => {
    expect(conflictOf(acrf(true), 'T', 'OUTTEST', file({ ack: 'received', applied: { ACRF: 'FO.ACRF.X' } }))).toBe(
      'Duplicate: the ACRF of FI.CARR.012345.20261010.00001.T.1.1 was already applied (FO.ACRF.X), saying the same (received).',
    );
    expect(conflictOf(acrf(false), 'T', 'OUTTEST', file({ ack: 'received' }))).toMatch(/^Contradiction: this ACRF says rejected but the ACRF already applied/);
    expect(conflictOf(acrf(true), 'T', 'OUTTEST', file({ noti: 'accepted' }))).toMatch(/^Contradiction: an ACRF after the NOTI/);
    expect(conflictOf(noti('accepted'), 'T', 'OUTTEST', file({ noti: 'accepted' }))).toMatch(/^Duplicate: the NOTI/);
    expect(conflictOf(noti('rejected'), 'T', 'OUTTEST', file({ noti: 'accepted' }))).toMatch(/^Contradiction: this NOTI says rejected but the NOTI already applied .* said accepted/);
    expect(conflictOf(noti('accepted'), 'T', 'OUTTEST', file({ ack: 'rejected' }))).toMatch(/rejected on reception; a rejected file is never processed/);
    expect(conflictOf(noti('accepted'), 'T', 'OUTTEST', file({ ack: 'received' }))).toBeNull();
  });

  it.each(['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'])('never lets a reply touch a %s submission', (state) => {
    expect(conflictOf(noti('accepted'), 'T', 'OUTTEST', file({ submissionState: state }))).toMatch(new RegExp(`Submission 7 of .* is already ${state}, a final state`));
  });

  it('does not believe a reply about a submission that was never sent; one whose GO was started may be answered', () => {
    expect(conflictOf(acrf(true), 'T', 'OUTTEST', file({ submissionState: 'written', goStarted: false }))).toMatch(/was never sent/);
    expect(conflictOf(acrf(true), 'T', 'OUTTEST', file({ submissionState: 'written', goStarted: true }))).toBeNull();
  });
});
