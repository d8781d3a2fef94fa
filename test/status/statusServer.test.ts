import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { checkHealth, type HealthSources } from '../../src/status/health.js';
import { requireStatusToken, startStatusServer } from '../../src/status/statusServer.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Issue 22 points 3 and 4: /healthz says whether the instance can work; a page reachable from elsewhere asks for a token. */
describe('the status server', () => {
  let db: TestDatabase;
  let dir: { dir: string; remove: () => Promise<void> };
  const now = new Date('2026-10-12T02:00:00Z');
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await scratchDir('status-server');
  });
  afterAll(async () => {
    await db?.drop();
    await dir?.remove();
  });
  const sources = (over: Partial<HealthSources> = {}): HealthSources => ({
    ledger: db.pool,
    outbox: dir.dir,
    tickSeconds: 60,
    startedAt: new Date(now.getTime() - 3600_000),
    lastTickAt: () => new Date(now.getTime() - 30_000),
    now: () => now,
    ...over,
  });

  it('/healthz is 200 with a JSON body part by part when the database answers, the outbox takes a file and the last tick is recent (issue 22: it was only SELECT 1)', async () => {
    const server = await startStatusServer(
      { html: () => Promise.resolve(''), json: () => Promise.resolve({}), report: () => Promise.resolve(''), health: () => checkHealth(sources()), metrics: new Registry() },
      0,
    );
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, database: { ok: true }, outbox: { ok: true, path: dir.dir }, lastTick: { ok: true, at: '2026-10-12T01:59:30.000Z', ageSeconds: 30 } });
      expect(await fs.readdir(dir.dir)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('is not ok (503) when the outbox cannot be written or the last tick is old, naming which part', async () => {
    const file = path.join(dir.dir, 'not-a-folder');
    await fs.writeFile(file, 'x');
    const badOutbox = await checkHealth(sources({ outbox: file }));
    expect(badOutbox).toMatchObject({ ok: false, database: { ok: true }, outbox: { ok: false, error: 'ENOTDIR: the outbox cannot be written' }, lastTick: { ok: true } });
    const stale = await checkHealth(sources({ lastTickAt: () => new Date(now.getTime() - 600_000) }));
    expect(stale).toMatchObject({ ok: false, outbox: { ok: true }, lastTick: { ok: false, ageSeconds: 600 } });
    const server = await startStatusServer(
      { html: () => Promise.resolve(''), json: () => Promise.resolve({}), report: () => Promise.resolve(''), health: () => Promise.resolve(stale), metrics: new Registry() },
      0,
    );
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
    } finally {
      await server.close();
    }
  });

  it('is not ok when the database does not answer', async () => {
    const gone = await createTestDatabase();
    await gone.drop();
    const h = await checkHealth(sources({ ledger: gone.pool }));
    expect(h.ok).toBe(false);
    expect(h.database.ok).toBe(false);
  });

  it('refuses to start on an address other than loopback without MAILLON_STATUS_TOKEN, saying so', () => {
    expect(requireStatusToken('127.0.0.1', undefined)).toBeNull();
    expect(() => requireStatusToken('0.0.0.0', undefined)).toThrow(ConfigError);
    expect(() => requireStatusToken('0.0.0.0', undefined)).toThrow(/set MAILLON_STATUS_TOKEN/);
    expect(requireStatusToken('0.0.0.0', 'a-token-of-16-chars')).toBe('a-token-of-16-chars');
  });

  it('with a token, asks for it everywhere but /healthz: bearer header, or ?token= once then a cookie', async () => {
    const token = 'a-token-of-16-chars';
    const metrics = new Registry();
    const server = await startStatusServer(
      { html: () => Promise.resolve('<p>page</p>'), json: () => Promise.resolve({}), report: () => Promise.resolve(''), health: () => Promise.resolve({ ok: true }), metrics },
      0,
      '0.0.0.0',
      token,
    );
    const base = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${base}/`)).status).toBe(401);
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-token-xxxxxx' } })).status).toBe(401);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const first = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      const cookie = first.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await fetch(`${base}/status.json`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("keeps the token and a traced INSS out of addresses: ?token= is answered by a redirection without it, the trace form posts its key (a GET put both in the history, the proxies' logs and every refresh)", async () => {
    const token = 'a-token-of-16-chars';
    const traced: (string | null)[] = [];
    const server = await startStatusServer(
      {
        html: () => Promise.resolve('<p>page</p>'),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve('<p>report</p>'),
        health: () => Promise.resolve({ ok: true }),
        metrics: new Registry(),
        trace: (key) => (traced.push(key), Promise.resolve('<p>trace</p>')),
      },
      0,
      '127.0.0.1',
      token,
    );
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const first = await fetch(`${base}/report?flow=career&token=${token}&period=2026-Q3`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/report?flow=career&period=2026-Q3');
      expect(first.headers.get('set-cookie')).toBe(`maillon_status_token=${token}; HttpOnly; SameSite=Strict; Path=/`);
      // fetch would normalise this address: as a browser could send it, over a raw socket.
      expect(await rawAnswer(server.port, `GET /.//elsewhere.example/?token=${token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/\r\nlocation: \/elsewhere\.example\/\r\n/i);
      const cookie = { cookie: first.headers.get('set-cookie')!.split(';')[0]! };
      const form = { ...cookie, 'content-type': 'application/x-www-form-urlencoded' };
      const posted = await fetch(`${base}/trace`, { method: 'POST', headers: form, body: 'key=85.07.30-033.28' });
      expect(posted.status).toBe(200);
      expect(await posted.text()).toBe('<p>trace</p>');
      // Links and bookmarks to /trace?key= keep working.
      expect((await fetch(`${base}/trace?key=D05`, { headers: cookie })).status).toBe(200);
      expect(traced).toEqual(['85.07.30-033.28', 'D05']);
      expect((await fetch(`${base}/trace`, { method: 'POST', headers: form, body: `key=${'x'.repeat(20_000)}` })).status).toBe(413);
      expect((await fetch(`${base}/trace`, { method: 'POST', headers: { ...cookie, 'content-type': 'application/json' }, body: '{"key":"D05"}' })).status).toBe(415);
      expect((await fetch(`${base}/trace`, { method: 'POST', headers: { ...form, 'sec-fetch-site': 'cross-site' }, body: 'key=D05' })).status).toBe(403);
      // Without the cookie (SameSite=Strict: what a post from another site carries), the form asks for the token.
      expect((await fetch(`${base}/trace`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=D05' })).status).toBe(401);
      expect(traced).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('answers a request it cannot read with 400 and keeps serving: an unparsable address or a cookie that is not percent-encoding used to end maillon serve', async () => {
    const server = await startStatusServer(
      { html: () => Promise.resolve('<p>page</p>'), json: () => Promise.resolve({}), report: () => Promise.resolve(''), health: () => Promise.resolve({ ok: true }), metrics: new Registry() },
      0,
      '127.0.0.1',
      'a-token-of-16-chars',
    );
    try {
      // `//x:y` cannot be sent with fetch, which normalises it: over a raw socket, as curl --path-as-is does.
      expect(await rawStatusLine(server.port, 'GET //x:y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
      // A cookie that does not decode is no token: asked for it, as without a cookie.
      expect(await rawStatusLine(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nCookie: maillon_status_token=%\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 401 Unauthorized');
      expect(await rawStatusLine(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 200 OK');
    } finally {
      await server.close();
    }
  });
});

/** The status line of the answer to one request written as is on a socket. */
async function rawStatusLine(port: number, request: string): Promise<string> {
  return (await rawAnswer(port, request)).split('\r\n')[0]!;
}

/** The whole answer, head and body, to one request written as is on a socket. */
function rawAnswer(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}
