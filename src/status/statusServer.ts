import http from 'node:http';
import type { Registry } from 'prom-client';
import { MaillonError } from '../errors/errors.js';

/** What the status server shows; each function reads the ledger when asked. */
export interface StatusSources {
  html(): Promise<string>;
  json(): Promise<unknown>;
  report(flow: string, period: string): Promise<string>;
  /** A record's trail as a page, INSS masked (null key: the empty form). */
  trace?(key: string | null): Promise<string>;
  healthy(): Promise<boolean>;
  metrics: Registry;
}

/** A read-only HTTP server, bound to 127.0.0.1 unless told otherwise: /, /status.json, /report/<flow>/<period>, /healthz, /metrics. */
export async function startStatusServer(sources: StatusSources, port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void route(sources, req.url ?? '/', req.method ?? 'GET')
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.end(body);
      })
      .catch((err: unknown) => {
        res.writeHead(err instanceof MaillonError ? 404 : 500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(err instanceof MaillonError ? err.message : 'internal error');
      });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function route(s: StatusSources, url: string, method: string): Promise<{ status: number; type: string; body: string }> {
  if (method !== 'GET') return { status: 405, type: 'text/plain', body: 'read-only' };
  const path = url.split('?')[0]!;
  if (path === '/') return { status: 200, type: 'text/html; charset=utf-8', body: await s.html() };
  if (path === '/status.json') return { status: 200, type: 'application/json', body: JSON.stringify(await s.json(), null, 2) };
  if (path === '/healthz') return (await s.healthy()) ? { status: 200, type: 'text/plain', body: 'ok' } : { status: 503, type: 'text/plain', body: 'database unreachable' };
  if (path === '/metrics') return { status: 200, type: s.metrics.contentType, body: await s.metrics.metrics() };
  if (path === '/trace' && s.trace) return { status: 200, type: 'text/html; charset=utf-8', body: await s.trace(new URLSearchParams(url.split('?')[1] ?? '').get('key')) };
  const m = /^\/report\/([a-z0-9-]+)\/([0-9A-Q-]+)$/.exec(path);
  if (m) return { status: 200, type: 'text/html; charset=utf-8', body: await s.report(m[1]!, m[2]!) };
  return { status: 404, type: 'text/plain', body: 'not found' };
}
