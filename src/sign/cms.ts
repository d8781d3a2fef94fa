import { createHash, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }));

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

const toArrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** DER bytes of the first PEM block of a text. */
export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!m) throw new Error('no PEM block found');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** Every certificate of a PEM bundle. */
export function parseCertificates(pem: string): pkijs.Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => pkijs.Certificate.fromBER(toArrayBuffer(pemToDer(m[0]))));
}

/** The common name of a certificate's subject. */
export function commonName(cert: pkijs.Certificate): string {
  const cn = cert.subject.typesAndValues.find((t) => t.type === '2.5.4.3');
  return cn ? String(cn.value.valueBlock.value) : '(no CN)';
}

/** The private key is not the one whose public half the certificate holds. */
export class KeyMismatchError extends Error {
  constructor() {
    super("the certificate's public key is not the private key's");
  }
}

/** A key and certificate that sign detached CMS signatures (SHA-256, RSA or EC). */
export interface CmsSigner {
  subject: string;
  /** DER of a detached SignedData over the file's bytes (the file is streamed, never held whole). */
  signFile(file: string, at: Date): Promise<Buffer>;
}

/** Builds a signer from a PEM certificate and a PEM private key (PKCS#1, PKCS#8 or SEC1; encrypted with `passphrase`). */
export async function createCmsSigner(certPem: string, keyPem: string | Buffer, passphrase?: string): Promise<CmsSigner> {
  const cert = parseCertificates(certPem)[0];
  if (!cert) throw new Error('the certificate file holds no certificate');
  const keyObject = createPrivateKey(passphrase ? { key: keyPem, passphrase } : { key: keyPem });
  // A key that is not the certificate's signs signatures no verifier accepts.
  const certBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(certPem)![0];
  if (!new X509Certificate(certBlock).checkPrivateKey(keyObject)) throw new KeyMismatchError();
  const type = keyObject.asymmetricKeyType;
  const algorithm =
    type === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : type === 'ec'
        ? { name: 'ECDSA', namedCurve: { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[keyObject.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'P-256' }
        : null;
  if (!algorithm) throw new Error(`a ${type} key cannot sign here: use RSA or EC (P-256, P-384, P-521)`);
  const key = await webcrypto.subtle.importKey('pkcs8', keyObject.export({ format: 'der', type: 'pkcs8' }), algorithm, false, ['sign']);
  return {
    subject: commonName(cert),
    async signFile(file, at) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      const signed = new pkijs.SignedData({
        version: 1,
        encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
        signerInfos: [
          new pkijs.SignerInfo({
            version: 1,
            sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
            signedAttrs: new pkijs.SignedAndUnsignedAttributes({
              type: 0,
              attributes: [
                new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
                new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: at })] }),
                new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(hash.digest()) })] }),
              ],
            }),
          }),
        ],
        certificates: [cert],
      });
      // node:crypto's key type lists more usages than the Web Crypto type pkijs declares: same object.
      await signed.sign(key as unknown as Parameters<typeof signed.sign>[0], 0, 'SHA-256');
      return Buffer.from(new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) }).toSchema().toBER(false));
    },
  };
}

export { formatSignature, type SignatureLayout } from './signatureFormat.js';

/** The verdict on a detached signature. */
export type SignatureVerdict = { ok: true; signer: string } | { ok: false; reason: string };

/** Node's name for the digest algorithms a CMS signer may name (SHA-1 is deprecated but still verifiable). */
const DIGEST_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/**
 * A crypto engine that answers pkijs's digest of the detached data with a digest computed beforehand,
 * by streaming the file: pkijs wants the whole content in one buffer, which an 820 MB file must not be.
 * The placeholder stands for the content; any other digest (certificates, attributes) is computed as usual.
 */
class StreamedDigestEngine extends pkijs.CryptoEngine {
  constructor(
    private readonly placeholder: ArrayBuffer,
    private readonly digestOfContent: ArrayBuffer,
  ) {
    super({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] });
  }

  override digest(...[algorithm, data]: Parameters<pkijs.CryptoEngine['digest']>): Promise<ArrayBuffer> {
    const buffer: unknown = ArrayBuffer.isView(data) ? data.buffer : data;
    return buffer === this.placeholder ? Promise.resolve(this.digestOfContent.slice(0)) : super.digest(algorithm, data);
  }
}

async function digestOfFile(file: string, algorithm: string): Promise<ArrayBuffer> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return toArrayBuffer(hash.digest());
}

/**
 * Verifies a detached CMS signature (FS text, either layout) over the bytes of `file` against trusted
 * CA certificates. The file is streamed through its digest, never held whole, when the signature
 * carries signed attributes (as ours and CAdES always do); a signature without them signs the raw
 * bytes, and only then is the file read whole.
 */
export async function verifyDetached(fsText: string, file: string, trusted: readonly pkijs.Certificate[]): Promise<SignatureVerdict> {
  try {
    const der = Buffer.from(fsText.replace(/[\r\n\s]+/g, ''), 'base64');
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(der));
    if (info.contentType !== OID.signedData) return { ok: false, reason: 'not a CMS SignedData' };
    const signed = new pkijs.SignedData({ schema: info.content });
    const signerInfo = signed.signerInfos[0];
    if (!signerInfo) return { ok: false, reason: 'the signature names no signer' };
    const params = { signer: 0, trustedCerts: [...trusted], checkChain: true, extendedMode: true as const };
    let result: pkijs.SignedDataVerifyResult;
    if (signerInfo.signedAttrs) {
      const algorithm = DIGEST_BY_OID[signerInfo.digestAlgorithm.algorithmId];
      if (!algorithm) return { ok: false, reason: `unknown digest algorithm ${signerInfo.digestAlgorithm.algorithmId}` };
      const placeholder = new ArrayBuffer(1);
      result = await signed.verify({ ...params, data: placeholder }, new StreamedDigestEngine(placeholder, await digestOfFile(file, algorithm)));
    } else {
      result = await signed.verify({ ...params, data: toArrayBuffer(await fs.readFile(file)) });
    }
    if (!result.signatureVerified) return { ok: false, reason: 'the signature does not match the file' };
    return { ok: true, signer: result.signerCertificate ? commonName(result.signerCertificate) : '(unknown)' };
  } catch (err) {
    const e = err as { message?: string; code?: number };
    return { ok: false, reason: e.message ?? (typeof err === 'object' && err && 'message' in err ? String(err.message) : 'unverifiable signature') };
  }
}
