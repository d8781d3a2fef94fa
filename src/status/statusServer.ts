import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import { readFormBody } from './formBody.js';
import { errorReply, type Reply, textReply } from './statusReply.js';

/** What the status server shows; each function reads the ledger when asked. */
export interface StatusSources {
  html(): Promise<string>;
  json(): Promise<unknown>;
  report(flow: string, period: string): Promise<string>;
  /** Whether the instance can do its work, part by part (JSON); 503 when `ok` is false. */
  health(): Promise<{ ok: boolean }>;
  /** A record's trail as a page, INSS masked (null key: the empty form). */
  trace?(key: string | null): Promise<string>;
  metrics: Registry;
  /** Where an answer that failed (5xx) is told, INSS masked. */
  logger: Logger;
}

const COOKIE = 'maillon_status_token';

/**
 * On every answer, errors included. The pages hold inline styles and nothing else (no script, no
 * image, no frame): the browser loads nothing beside them, and their forms post only here.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

const ROUTES = 'the pages are /, /status.json, /healthz, /metrics, /trace and /report/<flow>/<period>';

/** True for an address only this machine reaches (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether a request's Host header names this server without a token: a loopback name or address
 * (any port: an SSH forward may choose another), or MAILLON_STATUS_HOST. A page of another site
 * whose name was re-pointed at 127.0.0.1 (DNS rebinding) is same-origin for the browser, which then
 * lets it read the answer: its Host is its own name, refused. A request with no Host at all comes
 * from no browser (they all send it): answered.
 */
export function namesThisServer(hostHeader: string | undefined, statusHost: string): boolean {
  if (hostHeader === undefined) return true;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(hostHeader.toLowerCase());
  if (!m) return false;
  const name = m[1] ?? m[2]!;
  return isLoopback(name) || name === statusHost.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * The token rule: on loopback none is needed; on any other address MAILLON_STATUS_TOKEN must be
 * set (the page shows every flow's state to whoever reaches the port), else serve does not start.
 */
export function requireStatusToken(host: string, token: string | undefined): string | null {
  if (isLoopback(host)) return token ?? null;
  if (!token) {
    throw new ConfigError(
      `MAILLON_STATUS_HOST is ${host}, an address other than loopback: set MAILLON_STATUS_TOKEN (16 characters or more) so that the status page and /metrics ask for it, or bind to 127.0.0.1.`,
    );
  }
  return token;
}

/**
 * A read-only HTTP server, bound to 127.0.0.1 unless told otherwise: /, /status.json,
 * /report/<flow>/<period>, /healthz, /metrics. With a token, every path but /healthz asks for it:
 * `Authorization: Bearer <token>` (Prometheus' bearer_token), or `?token=` once in a browser,
 * answered by a redirection to the same address without it and an HttpOnly, SameSite=Strict
 * cookie for the page's links, refreshes and form. The trace form posts its key (POST /trace);
 * /trace?key= still answers for links and bookmarks. Without a token, a request under a name other
 * than loopback or `host` is a 421 (namesThisServer).
 */
export async function startStatusServer(sources: StatusSources, port: number, host = '127.0.0.1', token: string | null = null): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    // Whatever one request holds, it must not end the process (and the scheduler with it).
    void answer(sources, token, host, req)
      .catch((err: unknown) => errorReply(err, sources.logger, (req.url ?? '').split('?')[0]!))
      .then((reply) => send(res, reply))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Answers one request; an address that cannot be read is a 400, never a thrown error. */
async function answer(sources: StatusSources, token: string | null, host: string, req: http.IncomingMessage): Promise<Reply> {
  // Without a token, the page is open to this machine only, and to the names that reach it here.
  if (!token && !namesThisServer(req.headers.host, host)) {
    return textReply(
      421,
      'Without MAILLON_STATUS_TOKEN, this status page answers only at a loopback address (127.0.0.1, localhost, [::1]) or at MAILLON_STATUS_HOST: another name is refused, as a site re-pointing its own name at this machine would use (DNS rebinding). Reached through a proxy under another name, set MAILLON_STATUS_TOKEN.',
    );
  }
  const url = parseRequestUrl(req.url);
  if (!url) return textReply(400, `This address cannot be read: ${ROUTES}.`);
  const given = tokenOf(req, url);
  if (token && url.pathname !== '/healthz' && !(given !== null && same(given, token))) {
    return textReply(401, 'This status page asks for its token (MAILLON_STATUS_TOKEN): open it once with ?token=…, or send Authorization: Bearer ….', {
      'www-authenticate': 'Bearer realm="maillon"',
    });
  }
  if (token && url.searchParams.has('token')) {
    // Keep the secret out of the address bar, the history and the page's refreshes: the cookie carries it from now on.
    const rest = new URLSearchParams(url.search);
    rest.delete('token');
    const query = rest.toString();
    return textReply(303, '', {
      // One leading slash: `//host` would send the browser to another site.
      location: `/${url.pathname.replace(/^\/+/, '')}${query ? `?${query}` : ''}`,
      'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
    });
  }
  if (req.method === 'POST' && url.pathname === '/trace' && sources.trace) return tracePosted(sources.trace, req);
  return route(sources, url, req.method ?? 'GET');
}

/** Writes a reply with the security headers; a reply that cannot be written any more closes the connection. */
function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(reply.status, { ...SECURITY_HEADERS, 'content-type': reply.type, ...(reply.status === 413 ? { connection: 'close' } : {}), ...reply.headers });
  res.end(reply.body);
}

/**
 * The trace asked by the page's form, whose key (an INSS perhaps) travels in the body, out of the
 * address, the history and the proxies' logs. A browser marks a post from another site: refused.
 */
async function tracePosted(trace: NonNullable<StatusSources['trace']>, req: http.IncomingMessage): Promise<Reply> {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return textReply(403, 'The trace form is taken only from the status page itself.');
  const form = await readFormBody(req);
  if (!(form instanceof URLSearchParams)) return textReply(form.status, form.message);
  return { status: 200, type: 'text/html; charset=utf-8', body: await trace(form.get('key') || null) };
}

/** The request's address, or null when it cannot be parsed (`//x:y`). */
function parseRequestUrl(text: string | undefined): URL | null {
  try {
    return new URL(text ?? '/', 'http://status');
  } catch {
    return null;
  }
}

function tokenOf(req: http.IncomingMessage, url: URL): string | null {
  const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (auth) return auth[1]!;
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`));
  if (!cookie) return null;
  try {
    return decodeURIComponent(cookie.slice(COOKIE.length + 1));
  } catch {
    // A cookie that is not valid percent-encoding is no token (401 where one is asked), not a crash.
    return null;
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const FLOW = /^[a-z0-9-]+$/;
const PERIOD = /^[0-9A-Q-]+$/;

async function route(s: StatusSources, url: URL, method: string): Promise<Reply> {
  if (method !== 'GET') return textReply(405, 'This page is read-only: it answers GET (and POST /trace, the trace form).', { allow: 'GET' });
  const path = url.pathname;
  if (path === '/') return html(await s.html());
  if (path === '/status.json') return { status: 200, type: 'application/json', body: JSON.stringify(await s.json(), null, 2) };
  if (path === '/healthz') {
    const h = await s.health();
    return { status: h.ok ? 200 : 503, type: 'application/json', body: JSON.stringify(h, null, 2) };
  }
  if (path === '/metrics') return { status: 200, type: s.metrics.contentType, body: await s.metrics.metrics() };
  if (path === '/trace' && s.trace) return html(await s.trace(url.searchParams.get('key')));
  const m = /^\/report\/([^/]+)\/([^/]+)$/.exec(path);
  const flow = m ? m[1]! : path === '/report' ? url.searchParams.get('flow') : null;
  const period = m ? m[2]! : path === '/report' ? url.searchParams.get('period') : null;
  // Only names of flows and periods go on: the answer never echoes whatever else was asked.
  if (flow !== null && period !== null && FLOW.test(flow) && PERIOD.test(period)) return html(await s.report(flow, period));
  if (path === '/report' || m) return textReply(404, 'A report is at /report/<flow>/<period>, with a flow id (maillon flows) and a period key such as 2026-Q3, 2026-07, 2026 or 2026-07-14.');
  return textReply(404, `There is no page at this address: ${ROUTES}.`);
}

function html(body: string): Reply {
  return { status: 200, type: 'text/html; charset=utf-8', body };
}
