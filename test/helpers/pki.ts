import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Paths of a throwaway PKI made with the openssl command: a test CA and certificates it signed. */
export interface TestPki {
  caCert: string;
  /** The fund: EC P-256 key (PEM, 0600) and certificate. */
  fundCert: string;
  fundKey: string;
  /** The fund again, RSA, as a PKCS#12 file protected by `p12Passphrase`. */
  fundP12: string;
  p12Passphrase: string;
  /** The receiver (simulator) that signs replies. */
  receiverCert: string;
  receiverKey: string;
  /** A certificate from a CA nobody trusts. */
  strangerCert: string;
  strangerKey: string;
}

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'pipe' });
};

/** Creates the PKI under `dir`. */
export async function createTestPki(dir: string): Promise<TestPki> {
  await fs.mkdir(dir, { recursive: true });
  const p = (n: string): string => path.join(dir, n);
  const ca = (name: string, cn: string): void =>
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`), '-days', '3650', '-subj', `/CN=${cn}`]);
  const issue = (name: string, cn: string, issuer: string, newkey: string[]): void => {
    openssl(['req', '-newkey', ...newkey, '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${issuer}.pem`), '-CAkey', p(`${issuer}.key`), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '365']);
  };
  ca('ca', 'maillon test CA');
  ca('stranger-ca', 'unknown CA');
  issue('fund', 'Caisse nationale auxiliaire (test)', 'ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  issue('fund-rsa', 'Caisse nationale auxiliaire RSA (test)', 'ca', ['rsa:2048']);
  issue('receiver', 'Channel operator (test)', 'ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  issue('stranger', 'Somebody else', 'stranger-ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  const p12Passphrase = 'p12 secret 7';
  openssl(['pkcs12', '-export', '-inkey', p('fund-rsa.key'), '-in', p('fund-rsa.pem'), '-out', p('fund.p12'), '-passout', `pass:${p12Passphrase}`]);
  for (const f of ['fund.key', 'fund-rsa.key', 'receiver.key', 'stranger.key', 'fund.p12']) await fs.chmod(p(f), 0o600);
  return {
    caCert: p('ca.pem'),
    fundCert: p('fund.pem'),
    fundKey: p('fund.key'),
    fundP12: p('fund.p12'),
    p12Passphrase,
    receiverCert: p('receiver.pem'),
    receiverKey: p('receiver.key'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  };
}
