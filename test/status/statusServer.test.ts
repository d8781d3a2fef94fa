import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/database.js';
import { ConfigError, NotFoundError, UsageError } from '../../src/errors/errors.js';
import { createLogger } from '../../src/log/logger.js';
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
      {
        html: () => Promise.resolve(''),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve(''),
        health: () => checkHealth(sources()),
        metrics: new Registry(),
        logger: createLogger('silent'),
      },
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
      {
        html: () => Promise.resolve(''),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve(''),
        health: () => Promise.resolve(stale),
        metrics: new Registry(),
        logger: createLogger('silent'),
      },
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
      {
        html: () => Promise.resolve('<p>page</p>'),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve(''),
        health: () => Promise.resolve({ ok: true }),
        metrics,
        logger: createLogger('silent'),
      },
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
        logger: createLogger('silent'),
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

  it('sends its security headers on every answer, errors included, and maps errors: usage 400, not found 404, database down 503, anything else a generic 500 logged with the INSS masked', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const unreachable = createPool('postgres://maillon@127.0.0.1:1/maillon');
    const server = await startStatusServer(
      {
        html: () => Promise.resolve('<p>page</p>'),
        json: () => Promise.reject(new NotFoundError('No successful run of career for 2026-Q3 in environment T.')),
        report: (_flow, period) => Promise.reject(period === '2026-Q1' ? new UsageError('The period of the address: use 2026-Q3') : new Error('the row of 85073003328 broke')),
        health: () => Promise.resolve({ ok: true }),
        metrics: new Registry(),
        trace: async () => String((await unreachable.query('SELECT 1')).rowCount),
        logger: createLogger('info', sink),
      },
      0,
      '127.0.0.1',
      'a-token-of-16-chars',
    );
    const base = `http://127.0.0.1:${server.port}`;
    const auth = { authorization: 'Bearer a-token-of-16-chars' };
    try {
      const answers = {
        page: await fetch(`${base}/`, { headers: auth }),
        usage: await fetch(`${base}/report/career/2026-Q1`, { headers: auth }),
        notFound: await fetch(`${base}/status.json`, { headers: auth }),
        databaseDown: await fetch(`${base}/trace?key=D05`, { headers: auth }),
        failed: await fetch(`${base}/report/career/2026-Q2`, { headers: auth }),
        noPage: await fetch(`${base}/%3Cscript%3Ealert(1)%3C/script%3E`, { headers: auth }),
        noReport: await fetch(`${base}/report?flow=%3Cb%3Ecareer&period=2026-Q3`, { headers: auth }),
        noToken: await fetch(`${base}/`),
        redirect: await fetch(`${base}/?token=a-token-of-16-chars`, { redirect: 'manual' }),
        health: await fetch(`${base}/healthz`),
      };
      const bodies = Object.fromEntries(await Promise.all(Object.entries(answers).map(async ([k, r]) => [k, await r.text()])));
      expect(Object.fromEntries(Object.entries(answers).map(([k, r]) => [k, r.status]))).toEqual({
        page: 200,
        usage: 400,
        notFound: 404,
        databaseDown: 503,
        failed: 500,
        noPage: 404,
        noReport: 404,
        noToken: 401,
        redirect: 303,
        health: 200,
      });
      for (const [k, r] of Object.entries(answers)) {
        expect(r.headers.get('content-security-policy'), k).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
        expect(r.headers.get('x-content-type-options'), k).toBe('nosniff');
        expect(r.headers.get('cache-control'), k).toBe('no-store');
      }
      expect(bodies['usage']).toBe('The period of the address: use 2026-Q3');
      expect(bodies['notFound']).toBe('No successful run of career for 2026-Q3 in environment T.');
      expect(bodies['databaseDown']).toMatch(/^The ledger database does not answer now/);
      expect(bodies['failed']).toBe('The status page could not answer this request: the reason is in the log of maillon serve.');
      // The address asked for is not echoed: the body is a sentence naming the pages.
      expect(bodies['noPage']).toMatch(/^There is no page at this address: the pages are \//);
      expect(bodies['noPage']).not.toMatch(/script|alert/);
      expect(bodies['noReport']).not.toContain('<b>');
      const logged = lines.map((l) => JSON.parse(l));
      expect(logged.map((l) => [l.level, l.msg, l.path])).toEqual([
        [40, 'the status page could not read the ledger database', '/trace'],
        [50, 'the status page failed to answer a request', '/report/career/2026-Q2'],
      ]);
      expect(logged[1].err.message).toBe('the row of 85*******28 broke');
      expect(lines.join('')).not.toContain('85073003328');
    } finally {
      await server.close();
      await unreachable.end();
    }
  });

  it('answers a request it cannot read with 400 and keeps serving: an unparsable address or a cookie that is not percent-encoding used to end maillon serve', async () => {
    const server = await startStatusServer(
      {
        html: () => Promise.resolve('<p>page</p>'),
        json: () => Promise.resolve({}),
        report: () => Promise.resolve(''),
        health: () => Promise.resolve({ ok: true }),
        metrics: new Registry(),
        logger: createLogger('silent'),
      },
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
