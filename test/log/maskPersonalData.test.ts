import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { maskPersonalData } from '../../src/log/maskPersonalData.js';

describe('masking personal data in logs', () => {
  it('masks 11-digit numbers and the dotted form, not longer digit runs', () => {
    expect(maskPersonalData('INSS 85073003328 failed')).toBe('INSS 85*******28 failed');
    expect(maskPersonalData('85.07.30-033.28')).toBe('85*******28');
    expect(maskPersonalData('run 123456789012 ok')).toBe('run 123456789012 ok');
  });
  it('masks messages, fields and error messages written by the logger', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _e, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ detail: { inss: '85073003328' }, err: new Error('duplicate key (inss)=(17073003384)') }, 'record 85073003328 refused');
    expect(out).not.toMatch(/85073003328|17073003384/);
    expect(out).toContain('85*******28');
  });
});
