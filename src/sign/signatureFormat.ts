/** The two layouts of an FS file: base64 on one line, or in 76-character lines separated by a single CR. */
export type SignatureLayout = 'single-line' | 'cr76';

/** Formats a DER signature as the text of an FS file. */
export function formatSignature(der: Buffer, layout: SignatureLayout): string {
  const b64 = der.toString('base64');
  return layout === 'single-line' ? b64 : (b64.match(/.{1,76}/g) ?? []).join('\r');
}
