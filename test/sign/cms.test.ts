import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { createCmsSigner, formatSignature, parseCertificates, verifyDetached } from '../../src/sign/cms.js';
import { loadSigning } from '../../src/sign/signingIdentity.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';

/** openssl's own verdict on a detached signature (FS text) over a data file. */
function opensslVerifies(fsFile: string, dataFile: string, caFile: string): boolean {
  const der = `${fsFile}.der`;
  execFileSync('sh', ['-c', `tr -d '\\r\\n' < "${fsFile}" | base64 -d > "${der}"`]);
  try {
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', der, '-content', dataFile, '-CAfile', caFile, '-out', '/dev/null'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('FS signatures (detached CMS, SHA-256)', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  const data = path.join(ROOT, 'fixtures/career/golden/FI.CARR.012345.20261010.00001.T.1.1');

  beforeAll(async () => {
    tmp = await scratchDir('cms');
    pki = await createTestPki(path.join(tmp.dir, 'pki'));
  });
  afterAll(async () => tmp.remove());

  it.each(['single-line', 'cr76'] as const)('openssl cms -verify accepts an EC signature in the %s layout, and rejects it after one byte of the data changes', async (layout) => {
    const signer = await createCmsSigner(await fs.readFile(pki.fundCert, 'utf8'), await fs.readFile(pki.fundKey));
    const text = formatSignature(await signer.signFile(data, new Date('2026-10-10T00:00:00Z')), layout);
    if (layout === 'single-line') expect(text).not.toMatch(/[\r\n]/);
    else {
      expect(
        text
          .split('\r')
          .slice(0, -1)
          .every((l) => l.length === 76),
      ).toBe(true);
      expect(text).not.toContain('\n');
    }
    const fsFile = path.join(tmp.dir, `sig-${layout}`);
    await fs.writeFile(fsFile, text);
    expect(opensslVerifies(fsFile, data, pki.caCert)).toBe(true);
    const tampered = path.join(tmp.dir, `tampered-${layout}`);
    const bytes = await fs.readFile(data);
    bytes[200] = bytes[200]! ^ 1;
    await fs.writeFile(tampered, bytes);
    expect(opensslVerifies(fsFile, tampered, pki.caCert)).toBe(false);
    const trusted = parseCertificates(await fs.readFile(pki.caCert, 'utf8'));
    expect(await verifyDetached(text, data, trusted)).toEqual({ ok: true, signer: 'Caisse nationale auxiliaire (test)' });
    expect(await verifyDetached(text, tampered, trusted)).toEqual({ ok: false, reason: expect.stringMatching(/digest/i) });
  });

  it('signs with an RSA key from a PKCS#12 file, and refuses key files readable by others', async () => {
    const signing = await loadSigning({ p12Path: pki.fundP12, passphrase: pki.p12Passphrase, layout: 'cr76', signTest: false });
    const fsFile = path.join(tmp.dir, 'sig-p12');
    await fs.writeFile(fsFile, formatSignature(await signing.signer.signFile(data, new Date()), 'cr76'));
    expect(opensslVerifies(fsFile, data, pki.caCert)).toBe(true);
    await expect(loadSigning({ p12Path: pki.fundP12, passphrase: 'wrong', layout: 'cr76', signTest: false })).rejects.toBeInstanceOf(ConfigError);
    await fs.chmod(pki.fundKey, 0o640);
    await expect(loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false })).rejects.toThrow(/readable by others \(mode 640\)/);
    await fs.chmod(pki.fundKey, 0o600);
  });

  it('does not trust a signature from an unknown CA', async () => {
    const stranger = await createCmsSigner(await fs.readFile(pki.strangerCert, 'utf8'), await fs.readFile(pki.strangerKey));
    const text = formatSignature(await stranger.signFile(data, new Date()), 'single-line');
    const verdict = await verifyDetached(text, data, parseCertificates(await fs.readFile(pki.caCert, 'utf8')));
    expect(verdict.ok).toBe(false);
  });

  it('verifies what openssl signs: with signed attributes by the streamed digest, without them over the whole file', async () => {
    const trusted = parseCertificates(await fs.readFile(pki.caCert, 'utf8'));
    const tampered = path.join(tmp.dir, 'tampered-openssl');
    const bytes = await fs.readFile(data);
    bytes[100] = bytes[100]! ^ 1;
    await fs.writeFile(tampered, bytes);
    for (const [name, extra] of [
      ['with-attributes', []],
      ['no-attributes', ['-noattr']],
    ] as const) {
      const der = path.join(tmp.dir, `openssl-${name}.der`);
      execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha384', '-in', data, '-signer', pki.fundCert, '-inkey', pki.fundKey, '-outform', 'DER', '-out', der, ...extra], { stdio: 'pipe' });
      const text = (await fs.readFile(der)).toString('base64');
      expect(await verifyDetached(text, data, trusted), name).toEqual({ ok: true, signer: 'Caisse nationale auxiliaire (test)' });
      expect((await verifyDetached(text, tampered, trusted)).ok, name).toBe(false);
    }
  });

  it('answers with a reason, not an exception, when the signed file is missing', async () => {
    const signer = await createCmsSigner(await fs.readFile(pki.fundCert, 'utf8'), await fs.readFile(pki.fundKey));
    const text = formatSignature(await signer.signFile(data, new Date()), 'single-line');
    const verdict = await verifyDetached(text, path.join(tmp.dir, 'no-such-file'), parseCertificates(await fs.readFile(pki.caCert, 'utf8')));
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/ENOENT/) });
  });
});
