import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { BerthError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { EMPTY_TABLE, type RoutingTable, type Upstream } from '../routing-table.ts';
import { forward, type ForwardResult } from './forward.ts';
import { serializeRequestHead, upstreamRequestHeaders } from './forwarded-headers.ts';
import { clientAddress, parseRequestTarget, type RequestTarget } from './request-target.ts';
import { errorCode, proxyError, sendProxyError, upstreamFailure, writeRawProxyError, type ProxyError } from './responses.ts';
import { RoundRobin } from './round-robin.ts';
import { buildRouteIndex, type RouteIndex } from './route-index.ts';
import { UpstreamPools, upstreamKey } from './upstream-pools.ts';
import { Tunnels } from './upgrade-tunnel.ts';

export type ProxyConfig = Pick<
  Config,
  | 'httpPort'
  | 'listenAddress'
  | 'defaultHost'
  | 'trustDownstreamProxy'
  | 'upstreamConnectTimeoutMs'
  | 'upstreamTimeoutMs'
  | 'clientHeaderTimeoutMs'
  | 'clientKeepAliveTimeoutMs'
>;

export interface NodeDataPlaneOptions {
  readonly config: ProxyConfig;
  readonly logger: Logger;
  /** How long an upstream's connection pool outlives its removal from the table (default 60 s). */
  readonly poolRetireAfterMs?: number;
}

export type NodeDataPlane = DataPlane & { readonly port: number | undefined };

/** Where a request goes: an upstream, or the error the proxy answers itself. */
type Resolution = { readonly upstream: Upstream; readonly target: RequestTarget } | { readonly error: ProxyError };

/**
 * The Node data plane: one HTTP listener, a route index swapped as a single reference per apply, round robin per
 * route, undici pools per upstream and raw TCP tunnels for protocol switches.
 */
class NodePlane implements NodeDataPlane {
  readonly name = 'node' as const;
  readonly #config: ProxyConfig;
  readonly #log: Logger;
  readonly #balancer = new RoundRobin();
  readonly #pools: UpstreamPools;
  readonly #tunnels: Tunnels;
  #index: RouteIndex;
  #server: Server | undefined;
  #closing = false;

  constructor(options: NodeDataPlaneOptions) {
    const c = options.config;
    this.#config = c;
    this.#log = options.logger.child({ module: 'proxy' });
    this.#index = buildRouteIndex(EMPTY_TABLE, c.defaultHost);
    this.#pools = new UpstreamPools({
      connectTimeoutMs: c.upstreamConnectTimeoutMs,
      upstreamTimeoutMs: c.upstreamTimeoutMs,
      retireAfterMs: options.poolRetireAfterMs ?? 60_000,
    });
    this.#tunnels = new Tunnels({ connectTimeoutMs: c.upstreamConnectTimeoutMs, answerTimeoutMs: c.upstreamTimeoutMs });
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address.port : this.#config.httpPort;
  }

  async apply(table: RoutingTable): Promise<void> {
    const index = buildRouteIndex(table, this.#config.defaultHost);
    this.#index = index; // requests in flight keep the index they resolved against
    this.#balancer.retain(index.routeKeys);
    this.#pools.update(table);
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const c = this.#config;
    const server = createServer({
      requestTimeout: 0, // Node's 300 s default would cut long uploads; the idle timeouts below bound everything
      headersTimeout: c.clientHeaderTimeoutMs,
      keepAliveTimeout: c.clientKeepAliveTimeoutMs,
      // headersTimeout is only checked on this interval (default 30 s)
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(c.clientHeaderTimeoutMs / 2))),
    });
    // Idle timeout on client sockets so a slow (or stalled) request body cannot hold an upstream forever. It is a
    // little longer than the upstream timeout so that a silent upstream is answered with 504 before the socket goes.
    server.timeout = c.upstreamTimeoutMs + Math.max(1000, Math.floor(c.upstreamTimeoutMs / 10));
    server.on('request', (req, res) => this.#onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    // nginx answers CONNECT with 400; Node would just drop the socket.
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      writeRawProxyError(socket, proxyError('BAD_REQUEST', 'CONNECT is not supported'));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new BerthError('ERR_LISTEN_FAILED', `cannot listen on ${c.listenAddress ?? '*'}:${c.httpPort}: ${errorMessage(err)}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ port: c.httpPort, host: c.listenAddress, backlog: 511 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err, code: errorCode(err) }, 'listener error'));
    this.#server = server;
    this.#log.debug({ port: this.port, address: c.listenAddress }, 'listening');
  }

  async stop(graceMs: number): Promise<void> {
    this.#closing = true;
    const server = this.#server;
    if (server === undefined) {
      await this.#pools.close(true);
      return;
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Keep-alive connections whose response was already under way when stop began become idle later: sweep them.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    clearInterval(sweeper);
    if (outcome === 'timeout') {
      this.#log.warn({ tunnels: this.#tunnels.size }, 'grace period over: closing remaining connections');
      server.closeAllConnections();
      this.#tunnels.destroyAll();
      await closed;
    }
    await this.#pools.close(outcome === 'timeout');
  }

  #resolve(req: IncomingMessage): Resolution {
    const target = parseRequestTarget(req.url ?? '/', req.headers.host);
    const found = this.#index.lookup(target.host, target.path);
    if (found.kind === 'no-host') return { error: proxyError('NO_ROUTE', `no route for host ${JSON.stringify(target.host)}`) };
    if (found.kind === 'no-location') {
      return { error: proxyError('NO_LOCATION', `no location for path ${JSON.stringify(target.path)} on host ${JSON.stringify(found.vhost.hostname)}`) };
    }
    const upstream = this.#balancer.pick(found.key, found.route.upstreams);
    if (upstream === undefined) {
      return { error: proxyError('NO_BACKEND', `no backend available for host ${JSON.stringify(found.vhost.hostname)}`) };
    }
    return { upstream, target };
  }

  #headers(req: IncomingMessage, target: RequestTarget, upgrade: boolean): Record<string, string | string[]> {
    return upstreamRequestHeaders(req.headers, {
      host: target.host,
      localPort: req.socket.localPort ?? this.#config.httpPort,
      clientAddress: clientAddress(req.socket.remoteAddress),
      requestUri: target.uri,
      trustDownstreamProxy: this.#config.trustDownstreamProxy,
      upgrade,
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const resolution = this.#resolve(req);
    if ('error' in resolution) {
      sendProxyError(res, resolution.error, this.#closing);
      return;
    }
    const { upstream, target } = resolution;
    const key = upstreamKey(upstream);
    forward(
      this.#pools.get(key),
      { req, res, path: target.uri, headers: this.#headers(req, target, false), closeConnection: () => this.#closing },
      (result) => this.#afterForward(result, res, target.host, key),
    );
  }

  #afterForward(result: ForwardResult, res: ServerResponse, host: string, upstream: string): void {
    if (result.error === null) return;
    if (result.clientAborted) {
      this.#log.debug({ host, upstream, code: errorCode(result.error) }, 'client aborted');
      return;
    }
    this.#log.warn({ host, upstream, code: errorCode(result.error), headersSent: result.headersSent }, 'upstream request failed');
    sendProxyError(res, upstreamFailure(result.error, upstream), this.#closing);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const resolution = this.#closing ? { error: proxyError('NO_ROUTE', 'shutting down') } : this.#resolve(req);
    if ('error' in resolution) {
      writeRawProxyError(socket, resolution.error);
      return;
    }
    const { upstream, target } = resolution;
    const key = upstreamKey(upstream);
    this.#tunnels.open({
      client: socket,
      head,
      address: upstream.address,
      port: upstream.port,
      requestHead: serializeRequestHead(req.method ?? 'GET', target.uri, this.#headers(req, target, true)),
      onFailure: (err) => {
        this.#log.warn({ host: target.host, upstream: key, code: errorCode(err) }, 'upgrade to upstream failed');
        writeRawProxyError(socket, upstreamFailure(err, key));
      },
    });
  }
}

export function createNodeDataPlane(options: NodeDataPlaneOptions): NodeDataPlane {
  return new NodePlane(options);
}
