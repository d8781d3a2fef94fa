import { describe, expect, it } from 'vitest';
import { type BatchFileName, formatBatchFileName, formatSequence, parseBatchFileName } from '../../src/package/batchFileName.js';

describe('BatchFileName', () => {
  const fi = { kind: 'FI', purpose: 'CARR', sender: '012345', date: '2026-10-05', sequence: '00001', environment: 'R', parts: 1, part: 1 } as BatchFileName;
  it('formats the seven-part names of domain.md §2', () => {
    expect(formatBatchFileName(fi)).toBe('FI.CARR.012345.20261005.00001.R.1.1');
    expect(formatBatchFileName({ ...fi, kind: 'GO' })).toBe('GO.CARR.012345.20261005.00001.R.1');
    expect(formatBatchFileName({ ...fi, kind: 'FO', purpose: 'ACRF', sender: '999999' })).toBe('FO.ACRF.999999.20261005.00001.R');
  });
  it('parses what it formats, and refuses other names', () => {
    expect(parseBatchFileName('FI.CARR.012345.20261005.00001.R.1.1')).toEqual(fi);
    expect(() => parseBatchFileName('FI.CARR.012345.20261305.00001.R.1.1')).toThrow();
    expect(() => parseBatchFileName('../FI.CARR.012345.20261005.00001.R.1.1')).toThrow();
    expect(() => parseBatchFileName('FI.CARR.012345.20261005.00001.X.1.1')).toThrow();
  });
  it('numbers sequences 00001…99999 then alphanumerically, never colliding', () => {
    expect(formatSequence(1)).toBe('00001');
    expect(formatSequence(99_999)).toBe('99999');
    expect(formatSequence(100_000)).toBe('A0000');
    expect(formatSequence(100_001)).toBe('A0001');
    expect(formatSequence(100_000 + 36 ** 4)).toBe('B0000');
    expect(() => formatSequence(0)).toThrow();
  });
});
