import fs from 'node:fs';
import forge from 'node-forge';
import { readSecretFile } from '../system/secretFile.js';
import { ConfigError } from '../errors/errors.js';
import { type CmsSigner, createCmsSigner, KeyMismatchError } from './cms.js';
import type { SignatureLayout } from './signatureFormat.js';

/** Where the fund's signing certificate and key are (PEM files, or one PKCS#12 file). */
export interface SigningSettings {
  certPath?: string;
  keyPath?: string;
  p12Path?: string;
  passphrase?: string;
  layout: SignatureLayout;
  /** Sign test (T) submissions too; production (R) is always signed, simulation (S) never. */
  signTest: boolean;
}

/** What the engine signs with. */
export interface Signing {
  signer: CmsSigner;
  layout: SignatureLayout;
  signTest: boolean;
}

/**
 * Loads the signing identity: PEM certificate + PEM key (RSA or EC, optionally encrypted), or
 * a PKCS#12 file (RSA). Key and PKCS#12 files readable by others are refused, and so is a key
 * that is not the certificate's.
 */
export async function loadSigning(s: SigningSettings): Promise<Signing> {
  try {
    if (s.p12Path) {
      const { certPem, keyPem } = fromPkcs12(readSecretFile(s.p12Path, 'PKCS#12 file'), s.passphrase ?? '');
      return { signer: await createCmsSigner(certPem, keyPem), layout: s.layout, signTest: s.signTest };
    }
    if (!s.certPath || !s.keyPath) throw new ConfigError('Set MAILLON_SIGN_CERT and MAILLON_SIGN_KEY (PEM), or MAILLON_SIGN_P12.');
    const key = readSecretFile(s.keyPath, 'signing key');
    return { signer: await createCmsSigner(fs.readFileSync(s.certPath, 'utf8'), key, s.passphrase), layout: s.layout, signTest: s.signTest };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof KeyMismatchError) {
      const files = s.p12Path
        ? `the PKCS#12 file ${s.p12Path} holds a certificate and a private key that`
        : `the certificate ${s.certPath} (MAILLON_SIGN_CERT) and the key ${s.keyPath} (MAILLON_SIGN_KEY)`;
      throw new ConfigError(
        `The signing identity does not hold together: ${files} do not belong together (their public keys differ), so no receiver could verify the signatures. Give the key of that certificate, or the certificate of that key.`,
        { cause: err },
      );
    }
    throw new ConfigError(`The signing certificate or key cannot be used: ${(err as Error).message}. Check MAILLON_SIGN_* and the passphrase.`, { cause: err });
  }
}

function fromPkcs12(der: Buffer, passphrase: string): { certPem: string; keyPem: string } {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), passphrase);
  const keyOid = forge.pki.oids['pkcs8ShroudedKeyBag']!;
  const certOid = forge.pki.oids['certBag']!;
  const keyBag = p12.getBags({ bagType: keyOid })[keyOid]?.[0];
  const certBag = p12.getBags({ bagType: certOid })[certOid]?.[0];
  if (!keyBag?.key || !certBag?.cert) throw new Error('the PKCS#12 file holds no private key and certificate');
  return { certPem: forge.pki.certificateToPem(certBag.cert), keyPem: forge.pki.privateKeyToPem(keyBag.key) };
}
