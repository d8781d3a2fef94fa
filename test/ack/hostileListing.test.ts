import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyOutcome } from '../../src/ack/ingestReplies.js';
import { type EmbeddedSftpServer, startEmbeddedSftpServer } from '../../src/transport/embeddedSftpServer.js';
import { generateEd25519KeyPair } from '../../src/transport/keyPair.js';
import { type Endpoints, loadEndpoints } from '../../src/transport/receivers.js';
import { acrfBody, createReplyChannel, type ReplyChannel } from '../helpers/replyChannel.js';
import { endpointOf } from '../helpers/sshd.js';

const fresh = (outcomes: ReplyOutcome[]): ReplyOutcome[] => outcomes.filter((o) => o.result !== 'already-processed');

/**
 * A server that lists names no file system holds (a NUL byte; 9,000 characters): only the
 * embedded SFTP server can list them (OpenSSH lists what its disk holds). The replies are sent
 * through the test sshd and read back through the embedded server, which serves the same folders.
 */
describe('a reply folder listing names that cannot be a reply (embedded SFTP server, real PostgreSQL)', () => {
  let ch: ReplyChannel;
  let server: EmbeddedSftpServer;
  let endpoints: Endpoints;
  const nul = 'FO.ACRF.999999.20261010.00001.T\u0000x';
  const long = `FO.85073003328${'a'.repeat(9000)}`;

  beforeAll(async () => {
    ch = await createReplyChannel();
    const keys = { host: generateEd25519KeyPair(), client: generateEd25519KeyPair() };
    const dir = path.dirname(ch.fx.outbox);
    const key = path.join(dir, 'hostile_client_key');
    await fs.writeFile(key, keys.client.private, { mode: 0o600 });
    server = await startEmbeddedSftpServer({ root: '/', hostKey: keys.host.private, authorizedKey: keys.client.public, faults: { listedNames: [nul, long] } });
    const file = path.join(dir, 'hostile-receivers.json');
    await fs.writeFile(file, JSON.stringify({ '*': endpointOf(ch.sshd, { port: server.port, privateKeyPath: key, hostKeyFingerprint: server.hostKeyFingerprint }) }), { mode: 0o600 });
    endpoints = loadEndpoints(file);
  });
  afterAll(async () => {
    await server?.close();
    await ch?.close();
  });

  it('sets each aside under a masked, hashed form naming the server and folder, and reads the genuine reply after them, pass after pass', async () => {
    const t = await ch.runAndSend('T');
    const genuine = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t.file, true));
    const outcomes = await ch.acks('T', { endpoints });
    const folder = `${ch.sshd.user}@127.0.0.1:${server.port}${path.join(ch.sshd.root, 'OUTTEST')}`;
    const refused = outcomes.filter((o) => o.name !== genuine);
    // In the order they are read: a name of no channel shape first, then by creation date and sequence.
    expect(refused).toEqual([
      {
        name: expect.stringMatching(/^FO\.85\*{7}28a{66}… \[name refused, sha256 [0-9a-f]{16}\]$/),
        result: 'set_aside',
        reason: expect.stringMatching(/^Its name is 9014 bytes long, over the 255 a file name may have: a file listed in the reply folder /),
      },
      {
        name: expect.stringMatching(/^FO\.ACRF\.999999\.20261010\.00001\.T\\x00x… \[name refused, sha256 [0-9a-f]{16}\]$/),
        result: 'set_aside',
        reason: expect.stringMatching(/^Its name holds a control character, which no file name of the channel does: a file listed in the reply folder /),
      },
    ]);
    for (const o of refused) {
      expect(o.reason).toContain(`${folder} (OUTTEST, of INASTI), shown here as ${o.name}. It was not read and stays on the server`);
      expect(o.reason).not.toContain('85073003328');
    }
    expect(outcomes.find((o) => o.name === genuine)?.result).toBe('processed');
    expect(await ch.stateOf(t.submissionId)).toBe('received');
    const rows = await ch.fx.db.pool.query(`SELECT name, state FROM maillon.replies WHERE name LIKE '%name refused%' ORDER BY name`);
    expect(rows.rows).toEqual(refused.map((o) => ({ name: o.name, state: 'set_aside' })).sort((a, b) => (a.name < b.name ? -1 : 1)));

    // The next pass is quiet about them, and reads what came since.
    const t2 = await ch.runAndSend('T');
    const next = await ch.put('OUTTEST', 'T', 'ACRF', acrfBody(t2.file, true));
    expect(fresh(await ch.acks('T', { endpoints }))).toEqual([{ name: next, result: 'processed' }]);
  });
});
