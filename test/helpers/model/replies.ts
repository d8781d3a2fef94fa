import fs from 'node:fs/promises';
import path from 'node:path';
import { zipOne } from '../../../src/simulate/zipOne.js';
import { acrfBody, notiBody } from '../replyChannel.js';
import type { MReply } from './model.js';
import type { World } from './world.js';

/** A file name of our sender that no submission ever had. */
export const UNKNOWN_FILE = 'FI.CARR.012345.20261010.ZZZZZ.T.1.1';

const NOTI_RESULT = { accepted: 1, accepted_with_anomalies: 2, rejected: 3 } as const;

/**
 * Puts one reply (and its GO) in the world's OUTTEST as the channel would, genuine or hostile;
 * returns what the model needs to judge it when `acks` reads it.
 */
export async function putReply(w: World, r: Omit<MReply, 'name'>, fileName: string): Promise<MReply> {
  const env = r.variant === 'named-S' ? 'S' : r.variant === 'named-R' ? 'R' : 'T';
  const seq = w.nextReplySequence();
  const zipped = r.variant === 'zip-dotdot';
  const name = `${zipped ? 'CO' : 'FO'}.${r.kind}.999999.20261010.${seq}.${env}`;
  const file = path.join(w.outTestDir, name);
  const body =
    r.kind === 'ACRF'
      ? acrfBody(fileName, r.says === 'received')
      : notiBody(fileName, NOTI_RESULT[r.says as keyof typeof NOTI_RESULT] ?? 1, r.says === 'accepted_with_anomalies' ? [{ description: 'remark' }] : []);
  switch (r.variant) {
    case 'zip-dotdot': {
      // yazl refuses such a name: a safe one of the same length, changed in place.
      const zip = await zipOne('aaax.xml', body);
      await fs.writeFile(file, Buffer.from(zip.toString('latin1').replaceAll('aaax.xml', '../x.xml'), 'latin1'));
      break;
    }
    case 'attestation-abc':
      await fs.writeFile(file, notiBody(fileName, 2, [{ inss: '85073003328', attestationId: 'abc' }]));
      break;
    case 'attestation-huge':
      await fs.writeFile(file, notiBody(fileName, 2, [{ inss: '85073003328', attestationId: '99999999999999999999999' }]));
      break;
    case 'nul-byte':
      await fs.writeFile(file, notiBody(fileName, 2, [{ inss: '85073003328', description: 'bad\u0000byte' }]));
      break;
    case 'directory':
      await fs.mkdir(file);
      break;
    default:
      await fs.writeFile(file, body);
  }
  await fs.writeFile(path.join(w.outTestDir, `GO.${r.kind}.999999.20261010.${seq}.${env}.1`), '');
  return { ...r, name };
}
