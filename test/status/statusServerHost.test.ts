import http from 'node:http';
import net from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { namesThisServer, type StatusSources, startStatusServer } from '../../src/status/statusServer.js';

const SECRET = 'pause reason naming 85073003328';

const sources: StatusSources = {
  html: () => Promise.resolve(`<p>${SECRET}</p>`),
  json: () => Promise.resolve({ paused: [{ reason: SECRET }] }),
  report: () => Promise.resolve(`<p>${SECRET}</p>`),
  health: () => Promise.resolve({ ok: true }),
  trace: () => Promise.resolve(`<p>${SECRET}</p>`),
  metrics: new Registry(),
  logger: createLogger('silent'),
};

/** One GET with the Host header a browser sends for the name in its address bar (fetch cannot set it). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host, 'sec-fetch-site': 'same-origin' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The status line of an HTTP/1.0 GET without a Host header, written as is on a socket. */
function http10StatusLine(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got.split('\r\n')[0]!));
  });
}

/** Review serve finding 3: without a token, a site whose name re-points at 127.0.0.1 (DNS rebinding) could read every page. */
describe('the status server without a token, against DNS rebinding', () => {
  it('refuses (421) a request whose Host is another name than loopback or MAILLON_STATUS_HOST, on every path, and tells nothing', async () => {
    const server = await startStatusServer(sources, 0, '127.0.0.1', null);
    try {
      for (const path of ['/', '/status.json', '/report/career/2026-Q3', '/trace?key=85073003328', '/healthz', '/metrics']) {
        const r = await get(server.port, path, `attacker.example:${server.port}`);
        expect(r.status, path).toBe(421);
        expect(r.body).toContain('answers only at a loopback address');
        expect(r.body).toContain('MAILLON_STATUS_TOKEN');
        expect(r.body).not.toContain('85073003328');
        expect(r.body).not.toContain('attacker');
      }
      // A name that merely starts like a loopback one is another name.
      expect((await get(server.port, '/status.json', `localhost.attacker.example:${server.port}`)).status).toBe(421);
      expect((await get(server.port, '/status.json', `127.0.0.1.nip.io:${server.port}`)).status).toBe(421);
    } finally {
      await server.close();
    }
  });

  it('answers at 127.0.0.1, localhost and [::1] on any port (an SSH forward may pick another), and a client that sends no Host (no browser does)', async () => {
    const server = await startStatusServer(sources, 0, '127.0.0.1', null);
    try {
      for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LocalHost:${server.port}`, `[::1]:${server.port}`, 'localhost:9000', 'localhost', '127.0.0.2:8787']) {
        const r = await get(server.port, '/status.json', host);
        expect(r.status, host).toBe(200);
        expect(r.body).toContain('85073003328');
      }
      // Node refuses an HTTP/1.1 request without Host (400) by itself; HTTP/1.0 may omit it.
      expect(await http10StatusLine(server.port, '/status.json')).toBe('HTTP/1.1 200 OK');
    } finally {
      await server.close();
    }
  });

  it('answers at MAILLON_STATUS_HOST as configured, a name or an IPv6 address', () => {
    expect(namesThisServer('status.internal:8787', 'status.internal')).toBe(true);
    expect(namesThisServer('STATUS.internal', 'status.internal')).toBe(true);
    expect(namesThisServer('[::1]:8787', '::1')).toBe(true);
    expect(namesThisServer('other.internal:8787', 'status.internal')).toBe(false);
    expect(namesThisServer('::1', '::1')).toBe(false); // an IPv6 address without brackets is no Host
    expect(namesThisServer('localhost:8787@evil', '127.0.0.1')).toBe(false);
    expect(namesThisServer('', '127.0.0.1')).toBe(false);
  });

  it('with a token, leaves the Host alone: the token guards the page (a rebinding site has neither the cookie nor the bearer), and the names a proxy or a container network gives it are not known', async () => {
    const server = await startStatusServer(sources, 0, '127.0.0.1', 'a-token-of-16-chars');
    try {
      expect((await get(server.port, '/status.json', `attacker.example:${server.port}`)).status).toBe(401);
      expect((await get(server.port, '/healthz', `maillon.internal:${server.port}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
