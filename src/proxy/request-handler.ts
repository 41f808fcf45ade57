import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.ts';
import type { AccessLog, UpstreamAttemptLog } from './access-log.ts';
import { connectionInfo } from './connection-info.ts';
import { headLength, type DownstreamRequest, type DownstreamResponse } from './downstream.ts';
import { deliver, type AttemptOutcome, type DeliverySettings, type Selection, type UpstreamSelection } from './delivery.ts';
import { attemptOutcome, forward, type ForwardResult } from './forward.ts';
import { hostHeaderProblem, scanHasBody, scanRequestHeaders, serializeRequestHead, upstreamRequestHeaderList, upstreamRequestHeaders, type ForwardContext } from './forwarded-headers.ts';
import { parseRequestTarget } from './request-target.ts';
import { errorCode, proxyError, sendProxyError, upstreamFailure, writeRawProxyError, type ProxyError } from './responses.ts';
import { classifyFailure } from './retry-policy.ts';
import { BAD_TARGET, routedRequest, type RoutedRequest, type Router } from './select.ts';
import { routeScheme, upstreamKey, type UpstreamPools } from './upstream-pools.ts';
import type { Tunnels } from './upgrade-tunnel.ts';

/**
 * The HTTP/1 request path of the Node data plane: parse and normalise the target, route it (select.ts) through
 * delivery.ts (readiness, waiting, retries), forward it (forward.ts, or a tunnel for protocol switches), answer with
 * the proxy's own response when no backend can, and write the access log line when the exchange is over.
 */

export interface RequestHandlerDeps {
  /** The global HTTP_PORT (fallback when a socket has no local port). */
  readonly httpPort: number;
  readonly trustDownstreamProxy: boolean;
  readonly router: Router;
  readonly pools: UpstreamPools;
  readonly tunnels: Tunnels;
  readonly delivery: DeliverySettings;
  readonly accessLog: AccessLog;
  readonly closing: () => boolean;
  readonly log: Logger;
}

/** What one request records for its access log line (only when the log is enabled). */
class LogRecord {
  readonly startMs = Date.now();
  readonly upstreams: UpstreamAttemptLog[] = [];
  readonly bytesBefore: number;
  /** The proxy's own answer, when it gave one (upgrade requests: their status). */
  answered: number | undefined;

  constructor(socket: Duplex) {
    this.bytesBefore = (socket as Socket).bytesWritten ?? 0;
  }

  attempt(addr: string, status: number, startedMs: number): void {
    this.upstreams.push({ addr, status, timeMs: Date.now() - startedMs });
  }
}

function attemptStatus(result: ForwardResult, key: string): number {
  return result.status !== 0 || result.error === null ? result.status : upstreamFailure(result.error, key).status;
}

export class RequestHandler {
  readonly #d: RequestHandlerDeps;

  constructor(deps: RequestHandlerDeps) {
    this.#d = deps;
  }

  #routed(req: DownstreamRequest, host: string | undefined, uri: string): { routed: RoutedRequest | undefined; host: string; uri: string; forwardedPort: number } {
    const target = parseRequestTarget(uri, host);
    const socket = req.socket;
    const info = connectionInfo(socket, this.#d.httpPort);
    const routed = routedRequest({
      host: target.host,
      requestUri: target.uri,
      listenerPort: socket.localPort ?? this.#d.httpPort,
      clientAddress: info.clientAddress,
      rawHeaders: req.rawHeaders,
      http2: false,
    });
    return { routed, host: target.host, uri: target.uri, forwardedPort: info.proxyServerPort ?? info.localPort };
  }

  onRequest(req: DownstreamRequest, res: DownstreamResponse): void {
    const d = this.#d;
    const raw = req.rawHeaders;
    const scan = scanRequestHeaders(raw);
    const { routed, host, uri, forwardedPort } = this.#routed(req, scan.host, req.url ?? '/');
    const hasBody = scanHasBody(scan);
    const exchange = d.accessLog.enabled ? new LogRecord(req.socket) : undefined;
    if (exchange !== undefined) res.once('close', () => this.#logRequest(req, res, routed, host, uri, exchange));
    const hostProblem = hostHeaderProblem(scan);
    if (hostProblem !== undefined) {
      // As nginx: a 400 that ends the connection.
      sendProxyError(res, badHost(hostProblem), true);
      return;
    }
    const answer = (error: ProxyError): void => sendProxyError(res, error, d.closing() || (hasBody && !req.complete));
    if (routed === undefined) {
      answer(BAD_TARGET);
      return;
    }
    let headers: string[] | undefined;
    deliver(d.delivery, {
      host,
      select: (tried) => d.router.select(routed, tried),
      attempt: (upstream, done, selection) => {
        headers ??= upstreamRequestHeaderList(raw, scan, this.#forwardContext(routed, host, uri, forwardedPort));
        const key = upstreamKey(upstream);
        const keepalive = selection.route?.keepalive ?? 'auto';
        const pool = d.pools.get(key, selection.route === undefined ? 'http' : routeScheme(selection.route), keepalive);
        const request = { req, res, path: selection.target ?? uri, headers, hasBody, closeConnection: d.closing, reset: keepalive === 'disabled' };
        const started = exchange === undefined ? 0 : Date.now();
        forward(pool, request, (result) => {
          exchange?.attempt(key, attemptStatus(result, key), started);
          done(this.#outcome(result, req.method, host, key));
        });
      },
      // An unread request body would otherwise be drained before the next request on this connection.
      answer,
      closeSignal: res,
    });
  }

  /** What the X-Forwarded-* / Host headers of a request describe (forwarded-headers.ts). */
  #forwardContext(routed: RoutedRequest, host: string, uri: string, forwardedPort: number): Omit<ForwardContext, 'upgrade'> {
    return {
      host,
      localPort: routed.listenerPort,
      forwardedPort,
      clientAddress: routed.clientAddress,
      requestUri: uri,
      trustDownstreamProxy: this.#d.trustDownstreamProxy,
    };
  }

  #outcome(result: ForwardResult, method: string | undefined, host: string, upstream: string): AttemptOutcome {
    if (result.clientAborted && result.error !== null) this.#d.log.debug({ host, upstream, code: errorCode(result.error) }, 'client aborted');
    return attemptOutcome(result, method);
  }

  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const d = this.#d;
    const exchange = d.accessLog.enabled ? new LogRecord(socket) : undefined;
    const answer = (error: ProxyError): void => {
      if (exchange !== undefined) exchange.answered = error.status;
      writeRawProxyError(socket, error);
    };
    if (d.closing()) {
      answer(proxyError('NO_ROUTE', 'shutting down'));
      return;
    }
    // node:http removed its own error handler from an upgraded socket: without one, a client reset while the request
    // waits for a backend would be an uncaught error. The tunnel adds its own handlers.
    socket.on('error', ignore);
    const { routed, host, uri, forwardedPort } = this.#routed(req, req.headers.host, req.url ?? '/');
    if (exchange !== undefined) socket.once('close', () => this.#logUpgrade(req, socket, routed, host, uri, exchange));
    const hostProblem = hostHeaderProblem(scanRequestHeaders(req.rawHeaders));
    if (hostProblem !== undefined) {
      answer(badHost(hostProblem));
      return;
    }
    if (routed === undefined) {
      answer(BAD_TARGET);
      return;
    }
    let requestHead: string | undefined;
    deliver(d.delivery, {
      host,
      select: (tried) => upgradeSelection(d.router.select(routed, tried)),
      attempt: (upstream, done, selection) => this.#tunnel(socket, head, upstream.address, upstream.port, selection, done, () => {
        requestHead ??= serializeRequestHead(
          req.method ?? 'GET',
          selection.target ?? uri,
          upstreamRequestHeaders(req.headers, { ...this.#forwardContext(routed, host, uri, forwardedPort), upgrade: true }),
        );
        return requestHead;
      }, exchange),
      answer,
      closeSignal: socket,
    });
  }

  #tunnel(
    socket: Duplex,
    head: Buffer,
    address: string,
    port: number,
    selection: UpstreamSelection,
    done: (outcome: AttemptOutcome) => void,
    requestHead: () => string,
    exchange: LogRecord | undefined,
  ): void {
    const key = upstreamKey(selection.upstream);
    let over = false;
    const finish = (outcome: AttemptOutcome): void => {
      if (over) return;
      over = true;
      done(outcome);
    };
    const started = Date.now();
    // The attempt lasts as long as the tunnel (least_conn counts it): over when the client side closes.
    socket.once('close', () => finish({ kind: 'done', delivered: true }));
    this.#d.tunnels.open({
      client: socket,
      head,
      address,
      port,
      tls: selection.route?.proto === 'https',
      upstream: key,
      requestHead: requestHead(),
      // Only connect-phase failures (a failed TLS handshake included) are retried: after the connect (the handshake),
      // the client's bytes may be on their way.
      onFailure: (error) => {
        exchange?.attempt(key, upstreamFailure(error, key).status, started);
        const failure = classifyFailure(error, false);
        finish({ kind: 'failed', error, retry: failure === 'not-sent', connection: failure === 'not-sent' });
      },
    });
  }

  #logRequest(req: DownstreamRequest, res: DownstreamResponse, routed: RoutedRequest | undefined, host: string, uri: string, x: LogRecord): void {
    const socket = req.socket;
    const bytesSent = Math.max(0, (socket.bytesWritten ?? 0) - x.bytesBefore);
    const headerBytes = headLength(res);
    const status = res.headersSent ? res.statusCode : 499;
    this.#write(req, routed, host, uri, x, status, bytesSent, Math.max(0, bytesSent - headerBytes));
  }

  #logUpgrade(req: IncomingMessage, socket: Duplex, routed: RoutedRequest | undefined, host: string, uri: string, x: LogRecord): void {
    const bytesSent = Math.max(0, ((socket as Socket).bytesWritten ?? 0) - x.bytesBefore);
    // The tunnel relays the backend's answer untouched: logged as the switch it almost always is.
    const status = x.answered ?? 101;
    this.#write(req, routed, host, uri, x, status, bytesSent, bytesSent);
  }

  #write(req: DownstreamRequest, routed: RoutedRequest | undefined, host: string, uri: string, x: LogRecord, status: number, bytesSent: number, bodyBytes: number): void {
    const socket = req.socket;
    const info = connectionInfo(socket, this.#d.httpPort);
    const q = uri.indexOf('?');
    this.#d.accessLog.write({
      startMs: x.startMs,
      method: req.method ?? '',
      requestUri: uri,
      uri: routed?.path ?? (q === -1 ? uri : uri.slice(0, q)),
      args: routed?.args ?? (q === -1 ? undefined : uri.slice(q + 1)),
      protocol: `HTTP/${req.httpVersion}`,
      host,
      clientAddress: info.clientAddress,
      clientPort: info.clientPort,
      serverPort: socket.localPort ?? this.#d.httpPort,
      scheme: 'http',
      rawHeaders: req.rawHeaders,
      status,
      bytesSent,
      bodyBytesSent: bodyBytes,
      upstreams: x.upstreams,
    });
  }
}

const TUNNEL_PROTOS: ReadonlySet<string> = new Set(['http', 'https']);

/**
 * The upgrade tunnel speaks HTTP/1.1 over TCP or TLS: a protocol switch reaches `http` and `https` backends. Any
 * other proto is answered 502 (select.ts already refuses gRPC over HTTP/1 and uwsgi/fastcgi; this is the backstop).
 */
function upgradeSelection(selection: Selection): Selection {
  if (selection.kind !== 'upstream' || selection.route === undefined || TUNNEL_PROTOS.has(selection.route.proto)) return selection;
  const route = selection.route;
  const where = `host ${JSON.stringify(selection.vhost?.hostname ?? '')} path ${JSON.stringify(route.path)}`;
  return { kind: 'error', error: proxyError('PROTO_UNSUPPORTED', `${where} speaks ${route.proto}: berth tunnels a protocol switch (WebSocket) to http and https backends only`) };
}

function badHost(problem: string): ProxyError {
  return proxyError('BAD_REQUEST', `invalid request: ${problem}`);
}

function ignore(): void {
  // errors end up as `close`, which is what the tunnel and the wait queue listen to
}
