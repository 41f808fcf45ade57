import http from 'node:http';
import net from 'node:net';
import { unlink } from 'node:fs/promises';
import type { Logger } from '../logger.ts';
import type { Explanation } from '../discovery/explain-container.ts';
import type { ContainerIssue } from '../routing-table.ts';

/**
 * The local admin endpoint behind `berth routes`, `berth explain` and `berth healthcheck`. Read-only JSON over a unix
 * socket by default (or loopback TCP): it is never reachable from outside unless BERTH_ADMIN says so.
 */
export interface RoutesView {
  readonly hosts: ReadonlyArray<{
    readonly hostname: string;
    readonly routes: ReadonlyArray<{
      readonly path: string;
      readonly backends: ReadonlyArray<{ container: string; address: string; port: number; network: string; state: string; health: string }>;
    }>;
  }>;
  readonly issues: readonly ContainerIssue[];
}

export interface AdminState {
  /** True once the first routing table is live. */
  ready(): boolean;
  routes(): RoutesView;
  explain(query: string): Explanation;
}

export interface AdminServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handler(state: AdminState): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET') return send(res, 405, { error: 'read-only endpoint: GET only' });
    if (url.pathname === '/healthz') return send(res, state.ready() ? 200 : 503, { ready: state.ready() });
    if (url.pathname === '/routes') return send(res, 200, state.routes());
    if (url.pathname === '/explain') {
      const q = url.searchParams.get('container');
      if (q === null || q === '') return send(res, 400, { error: 'missing ?container=<name or id>' });
      return send(res, 200, state.explain(q));
    }
    return send(res, 404, { error: `unknown path ${url.pathname}: try /routes, /explain?container=NAME, /healthz` });
  };
}

function listen(server: http.Server, endpoint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (endpoint.startsWith('unix://')) server.listen(endpoint.slice('unix://'.length), done);
    else {
      const u = new URL(endpoint.replace(/^tcp:/, 'http:'));
      server.listen(Number(u.port), u.hostname.replace(/^\[|\]$/g, ''), done);
    }
  });
}

/** A unix socket left behind by a berth that died is removed; one that still answers belongs to a live berth. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts the endpoint; resolves undefined (with a warning) when it cannot, since berth serves traffic without it. */
export async function startAdminServer(endpoint: string, state: AdminState, logger: Logger): Promise<AdminServer | undefined> {
  const log = logger.child({ module: 'admin' });
  const server = http.createServer(handler(state));
  try {
    try {
      await listen(server, endpoint);
    } catch (err) {
      const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : undefined;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || path === undefined || (await socketAlive(path))) throw err;
      await unlink(path);
      await listen(server, endpoint);
    }
  } catch (err) {
    log.warn({ endpoint, err: (err as Error).message }, 'admin endpoint not started (another berth may own it; set BERTH_ADMIN); berth routes/explain will not reach this berth');
    return undefined;
  }
  log.debug({ endpoint }, 'admin endpoint listening');
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
