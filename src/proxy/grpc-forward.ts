import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { RoutingTable } from '../routing-table.ts';
import type { AccessLog, UpstreamAttemptLog } from './access-log.ts';
import { connectionInfo } from './connection-info.ts';
import { deliver, type AttemptOutcome, type DeliverySettings, type Selection, type UpstreamSelection } from './delivery.ts';
import { H2Upstreams } from './h2-upstreams.ts';
import { GRPC_STATUS, answerBody, encodeGrpcMessage, isGrpcRequest, streamErrorHeaders, upstreamStreamHeaders, type StreamOrigin } from './h2-headers.ts';
import { relayStreams } from './h2-relay.ts';
import { parseRequestTarget } from './request-target.ts';
import { proxyError, upstreamFailure, type ProxyError } from './responses.ts';
import { BAD_TARGET, routedRequest, type RoutedRequest } from './select.ts';
import { upstreamKey } from './upstream-pools.ts';

/**
 * HTTP/2 streams (h2c clients, gRPC above all) forwarded to gRPC backends over HTTP/2 (h2-upstreams.ts), the way
 * nginx's grpc_pass does: routed like HTTP/1 requests (select.ts: host per listening port, location, NETWORK_ACCESS,
 * readiness, balancing) and delivered like them (delivery.ts: bounded wait for a ready backend, answers). Bodies,
 * trailers and resets are relayed by h2-relay.ts. Only connect failures are retried on another backend: once a
 * stream is open, the request body is on its way.
 *
 * A route whose backend speaks HTTP/1 (VIRTUAL_PROTO http/https) is answered 505 on HTTP/2: the client must use
 * HTTP/1.1 for it (the nginx data plane does not speak HTTP/2 at all on such a port).
 */

export type GrpcSettings = Pick<Config, 'httpPort' | 'trustDownstreamProxy' | 'upstreamConnectTimeoutMs' | 'upstreamTimeoutMs'>;

export interface GrpcForwarderOptions {
  readonly settings: GrpcSettings;
  readonly delivery: DeliverySettings;
  /** select.ts's Router. */
  readonly router: { select(request: RoutedRequest, tried: ReadonlySet<string>): Selection };
  readonly accessLog?: AccessLog;
  readonly log: Logger;
}

type Done = (outcome: AttemptOutcome) => void;

/** What one stream records for its access log line. */
interface StreamLog {
  readonly startMs: number;
  status: number | undefined;
  bodyBytes: number;
  readonly upstreams: UpstreamAttemptLog[];
}

export class GrpcForwarder {
  readonly #options: GrpcForwarderOptions;
  readonly #upstreams: H2Upstreams;

  constructor(options: GrpcForwarderOptions) {
    this.#options = options;
    this.#upstreams = new H2Upstreams({ connectTimeoutMs: options.settings.upstreamConnectTimeoutMs });
  }

  /** Backend sessions open (tests). */
  get sessions(): number {
    return this.#upstreams.size;
  }

  readonly handle = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, socket: Socket, rawHeaders: readonly string[]): void => {
    stream.on('error', ignore);
    const o = this.#options;
    const target = parseRequestTarget(headers[':path'] ?? '/', headers[':authority'] ?? headers.host);
    const grpc = isGrpcRequest(headers);
    const info = connectionInfo(socket, o.settings.httpPort);
    const routed = routedRequest({
      host: target.host,
      requestUri: target.uri,
      listenerPort: socket.localPort ?? o.settings.httpPort,
      clientAddress: info.clientAddress,
      rawHeaders,
      http2: true,
    });
    const from: StreamOrigin = {
      clientAddress: info.clientAddress,
      host: target.host,
      localPort: info.localPort,
      forwardedPort: info.proxyServerPort ?? info.localPort,
      requestUri: target.uri,
    };
    const log: StreamLog | undefined = o.accessLog?.enabled === true ? { startMs: Date.now(), status: undefined, bodyBytes: 0, upstreams: [] } : undefined;
    if (log !== undefined) stream.once('close', () => this.#writeLog(headers, socket, routed, log, rawHeaders));
    const answerWith = (error: ProxyError): void => {
      if (log !== undefined && !stream.headersSent) log.status = grpc ? 200 : error.status;
      answer(stream, error, grpc);
    };
    // HTTP/2's :path is always origin-form (RFC 9113 8.3.1): an absolute URL there must not pick another host.
    const originForm = (headers[':path'] ?? '/').startsWith('/');
    if (routed === undefined || !originForm || headers[':method'] === 'CONNECT') {
      answerWith(routed === undefined || !originForm ? BAD_TARGET : proxyError('BAD_REQUEST', 'CONNECT is not supported'));
      return;
    }
    deliver(o.delivery, {
      host: target.host,
      select: (tried) => o.router.select(routed, tried),
      attempt: (upstream, done, selection) => this.#attempt(stream, headers, from, selection, log, done),
      answer: answerWith,
      closeSignal: stream,
    });
  };

  #attempt(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, from: StreamOrigin, selection: UpstreamSelection, log: StreamLog | undefined, done: Done): void {
    const proto = selection.route?.proto ?? 'grpc';
    if (proto !== 'grpc' && proto !== 'grpcs') {
      if (log !== undefined) log.status = isGrpcRequest(headers) ? 200 : 505;
      notOverHttp2(stream, selection, proto, isGrpcRequest(headers));
      done({ kind: 'done', delivered: false });
      return;
    }
    const upstream = selection.upstream;
    const key = upstreamKey(upstream);
    const started = Date.now();
    const attempted = log === undefined ? done : (outcome: AttemptOutcome): void => {
      if (outcome.kind === 'failed') log.upstreams.push({ addr: key, status: upstreamFailure(outcome.error, key).status, timeMs: Date.now() - started });
      done(outcome);
    };
    this.#upstreams.session(upstream, proto === 'grpcs').then(
      (session) => {
        if (stream.closed || stream.destroyed) attempted({ kind: 'done', delivered: false });
        else this.#relay(session, stream, headers, from, selection, proto === 'grpcs' ? 'https' : 'http', log, started, attempted);
      },
      (err: Error) => attempted({ kind: 'failed', error: err, retry: true, connection: true }),
    );
  }

  #relay(session: ClientHttp2Session, client: ServerHttp2Stream, incoming: IncomingHttpHeaders, from: StreamOrigin, selection: UpstreamSelection, scheme: 'http' | 'https', log: StreamLog | undefined, started: number, done: Done): void {
    const s = this.#options.settings;
    const headers = upstreamStreamHeaders(incoming, { ...from, trustDownstreamProxy: s.trustDownstreamProxy, scheme });
    // VIRTUAL_DEST applies to gRPC paths as to any proxy_pass URI (select.ts computed it).
    if (selection.target !== undefined) headers[':path'] = selection.target;
    let up: ClientHttp2Stream;
    try {
      up = session.request(headers, { endStream: client.endAfterHeaders });
    } catch (err) {
      // The session is going away (GOAWAY received meanwhile): nothing was sent.
      done({ kind: 'failed', error: err as Error, retry: true, connection: false });
      return;
    }
    this.#upstreams.track(session, up);
    const key = upstreamKey(selection.upstream);
    const observer =
      log === undefined
        ? {}
        : {
            onResponse: (status: number): void => {
              log.status = status;
              log.upstreams.push({ addr: key, status, timeMs: Date.now() - started });
            },
            onData: (bytes: number): void => void (log.bodyBytes += bytes),
          };
    relayStreams(client, up, s.upstreamTimeoutMs, done, observer);
  }

  #writeLog(headers: IncomingHttpHeaders, socket: Socket, routed: RoutedRequest | undefined, log: StreamLog, rawHeaders: readonly string[]): void {
    const o = this.#options;
    const info = connectionInfo(socket, o.settings.httpPort);
    const uri = String(headers[':path'] ?? '/');
    const q = uri.indexOf('?');
    const status = log.status ?? 499; // nginx's "client closed the request before the response"
    o.accessLog?.write({
      startMs: log.startMs,
      method: String(headers[':method'] ?? ''),
      requestUri: uri,
      uri: routed?.path ?? (q === -1 ? uri : uri.slice(0, q)),
      args: routed?.args ?? (q === -1 ? undefined : uri.slice(q + 1)),
      protocol: 'HTTP/2.0',
      host: routed?.host ?? '',
      clientAddress: info.clientAddress,
      clientPort: info.clientPort,
      serverPort: socket.localPort ?? o.settings.httpPort,
      scheme: 'http',
      rawHeaders: withoutPseudoHeaders(rawHeaders),
      status,
      // HTTP/2 frames are not counted: both are the response body's bytes.
      bytesSent: log.bodyBytes,
      bodyBytesSent: log.bodyBytes,
      upstreams: log.upstreams,
    });
  }

  /** Sessions to backends that left the table are closed (gracefully). */
  update(table: RoutingTable): void {
    const backends = new Set<string>();
    for (const host of table.hosts) {
      for (const route of host.routes) if (route.proto === 'grpc' || route.proto === 'grpcs') for (const u of route.upstreams) backends.add(upstreamKey(u));
    }
    this.#upstreams.retain(backends);
  }

  /** Closes every backend session: gracefully (streams in flight finish), or at once. */
  close(force: boolean): Promise<void> {
    return this.#upstreams.close(force);
  }
}

/** `$http_*` names regular header fields only. */
function withoutPseudoHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!name.startsWith(':')) out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

function ignore(): void {
  // stream errors end in 'close', which is handled
}

/** The proxy's own answer; a stream that already answered is reset instead. */
function answer(stream: ServerHttp2Stream, error: ProxyError, grpc: boolean): void {
  if (stream.closed || stream.destroyed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  try {
    if (grpc) {
      stream.respond(streamErrorHeaders(error, true), { endStream: true });
      return;
    }
    stream.respond(streamErrorHeaders(error, false));
  } catch {
    // A header value built from request bytes (a DEFAULT_ROOT Location) that node:http2 refuses to send.
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.end(answerBody(error));
}

function notOverHttp2(stream: ServerHttp2Stream, selection: UpstreamSelection, proto: string, grpc: boolean): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  const where = `host ${JSON.stringify(selection.vhost?.hostname ?? '')} path ${JSON.stringify(selection.route?.path ?? '')}`;
  const detail = `${where} is served over HTTP/1.1 (VIRTUAL_PROTO=${proto}); berth forwards HTTP/2 only to gRPC backends (VIRTUAL_PROTO=grpc or grpcs): use HTTP/1.1`;
  const body = `505 HTTP Version Not Supported: ${detail}\n`;
  const common = { 'x-berth-error': 'HTTP2_NOT_SUPPORTED' };
  if (grpc) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GRPC_STATUS.UNIMPLEMENTED), 'grpc-message': encodeGrpcMessage(detail), ...common }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 505, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...common });
  stream.end(body);
}
