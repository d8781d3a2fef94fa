import { createHash } from 'node:crypto';
import { createAnomalyStage } from '../../src/ack/anomalyStage.js';
import { type AppliedReply, applyReply } from '../../src/ack/applyReply.js';
import type { Acrf, Noti } from '../../src/ack/replyXml.js';
import type { PoolClient } from '../../src/db/database.js';
import { parseBatchFileName } from '../../src/package/batchFileName.js';

/**
 * Applies a reply built in a test straight to the ledger, inside the caller's transaction, as
 * maillon acks would once it has read it: from the folder of the file's environment and receiver,
 * named for that environment, its anomalies staged by the same COPY. `name` must be unique per
 * test ledger.
 */
export async function applyTestReply(tx: PoolClient, name: string, at: Date, reply: Acrf | Noti): Promise<AppliedReply> {
  const environment = parseBatchFileName(reply.fileName).environment;
  const stage = createAnomalyStage(tx);
  if (reply.kind === 'NOTI') for (const a of reply.anomalies) await stage.add(a);
  await stage.end();
  const header = reply.kind === 'NOTI' ? { ...reply, anomalies: reply.anomalies.length } : reply;
  const sentTo = await tx.query<{ receiver: string }>(`SELECT s.receiver FROM maillon.files f JOIN maillon.submissions s USING (submission_id) WHERE f.name = $1`, [reply.fileName]);
  return applyReply(
    tx,
    {
      server: 'test',
      name,
      folder: environment === 'R' ? 'OUT' : 'OUTTEST',
      receivers: sentTo.rows.map((r) => r.receiver),
      nameEnvironment: environment,
      at,
      // Two replies saying different things never share a body.
      body: { localPath: `/nonexistent/${name}`, bytes: 0, sha256: createHash('sha256').update(JSON.stringify(reply)).digest('hex') },
      signature: null,
    },
    header,
    stage,
  );
}
