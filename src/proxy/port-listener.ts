import { createServer as createHttpServer, maxHeaderSize, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { readConnectionPrefix } from './connection-prefix.ts';
import type { DownstreamRequest, DownstreamResponse } from './downstream.ts';
import { FastLane } from './h1/fast-lane.ts';
import { H2cServer, type StreamHandler } from './h2c.ts';
import { errorCode, proxyError, writeRawProxyError } from './responses.ts';

/**
 * One listening port of the Node data plane: a plain TCP server per address (`0.0.0.0`, plus `::` IPv6-only with
 * ENABLE_IPV6, or BERTH_LISTEN_ADDRESS alone), whose connections go through connection-prefix.ts (PROXY header,
 * h2c sniffing) and are then fed to this port's HTTP/1 fast lane (h1/fast-lane.ts, BERTH_FAST_LANE), which hands a
 * connection to this port's own node:http server at its first request that is not plain and bodiless, or to its
 * HTTP/2 server (`emit('connection')`; neither listens itself). One HTTP/1 server per port, so that a port can be
 * closed gracefully on its own.
 */

export type PortSettings = Pick<
  Config,
  'listenAddress' | 'enableIpv6' | 'enableProxyProtocol' | 'clientHeaderTimeoutMs' | 'clientKeepAliveTimeoutMs' | 'upstreamTimeoutMs' | 'backendWaitMs' | 'fastLane'
>;

export interface RequestHandlers {
  readonly onRequest: (req: DownstreamRequest, res: DownstreamResponse) => void;
  readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly onStream: StreamHandler;
}

export interface ListenAddress {
  readonly host: string | undefined;
  readonly ipv6Only: boolean;
}

/** Where a port is listened on. The first address must bind; the others are best effort (no IPv6 in a container). */
export function listenAddresses(settings: Pick<Config, 'listenAddress' | 'enableIpv6'>): readonly ListenAddress[] {
  if (settings.listenAddress !== undefined) return [{ host: settings.listenAddress, ipv6Only: false }];
  const ipv4: ListenAddress = { host: '0.0.0.0', ipv6Only: false };
  return settings.enableIpv6 ? [ipv4, { host: '::', ipv6Only: true }] : [ipv4];
}

/**
 * Idle timeout on client sockets while a request is under way, so a slow (or stalled) request body cannot hold an
 * upstream forever. It is a little longer than the upstream timeout so that a silent upstream is answered with 504
 * before the socket goes. A request waiting for a ready backend is idle too: the timeout must outlast that wait too.
 */
function requestIdleTimeoutMs(s: PortSettings): number {
  return Math.max(s.upstreamTimeoutMs + Math.max(1000, Math.floor(s.upstreamTimeoutMs / 10)), s.backendWaitMs + 1000);
}

function createHttp1Server(s: PortSettings, handlers: RequestHandlers): HttpServer {
  const server = createHttpServer({
    requestTimeout: 0, // Node's 300 s default would cut long uploads; the idle timeouts below bound everything
    headersTimeout: s.clientHeaderTimeoutMs,
    keepAliveTimeout: s.clientKeepAliveTimeoutMs,
    // headersTimeout is only checked on this interval (default 30 s)
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(s.clientHeaderTimeoutMs / 2))),
  });
  server.timeout = requestIdleTimeoutMs(s);
  server.on('request', handlers.onRequest);
  server.on('upgrade', handlers.onUpgrade);
  // nginx answers CONNECT with 400; Node would just drop the socket.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    writeRawProxyError(socket, proxyError('BAD_REQUEST', 'CONNECT is not supported'));
  });
  // The server is fed connections and never listens: 'listening' is what starts its connection tracking
  // (closeIdleConnections, and the headersTimeout checks).
  server.emit('listening');
  return server;
}

function listen(server: NetServer, port: number, address: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: address.host, ipv6Only: address.ipv6Only, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export class PortListener {
  readonly #requested: number;
  readonly #settings: PortSettings;
  readonly #log: Logger;
  readonly #http1: HttpServer;
  readonly #fast: FastLane | undefined;
  readonly #h2: H2cServer;
  readonly #servers: NetServer[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #pending = new Set<Socket>();
  /**
   * node:http's connections, each with its `bytesRead` when its last response finished (undefined before the first):
   * a connection is idle when nothing was read since and no response is being written (#closeIdleHttp1).
   */
  readonly #http1Sockets = new Map<Socket, number | undefined>();
  #drained: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  #closing = false;

  constructor(port: number, settings: PortSettings, handlers: RequestHandlers, log: Logger) {
    this.#requested = port;
    this.#settings = settings;
    this.#log = log;
    this.#http1 = createHttp1Server(settings, handlers);
    this.#http1.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      res.once('finish', () => {
        if (this.#http1Sockets.has(socket)) this.#http1Sockets.set(socket, socket.bytesRead);
      });
    });
    if (settings.fastLane) {
      this.#fast = new FastLane({
        keepAliveTimeoutMs: settings.clientKeepAliveTimeoutMs,
        requestIdleTimeoutMs: requestIdleTimeoutMs(settings),
        // node:http's own limit (--max-http-header-size): the lane leaves longer heads to it (431).
        maxHeadBytes: maxHeaderSize,
        onRequest: handlers.onRequest,
        handOff: (socket) => this.#toHttp1(socket),
      });
    }
    this.#h2 = new H2cServer({ keepAliveTimeoutMs: settings.clientKeepAliveTimeoutMs, onStream: handlers.onStream, log });
  }

  /** The bound port (differs from the requested one only for port 0). */
  get port(): number {
    const address = this.#servers[0]?.address();
    return address !== null && typeof address === 'object' ? address.port : this.#requested;
  }

  /** Client connections open on this port (HTTP/1, HTTP/2, upgraded, or still being read). */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Binds every address; throws when the first cannot be bound. */
  async open(): Promise<void> {
    const [first, ...others] = listenAddresses(this.#settings);
    if (first === undefined) return;
    const main = this.#netServer();
    try {
      await listen(main, this.#requested, first);
    } catch (err) {
      this.#http1.close(); // stops its connection checks (an interval)
      throw err;
    }
    this.#adopt(main);
    for (const address of others) {
      const server = this.#netServer();
      try {
        await listen(server, this.port, address);
        this.#adopt(server);
      } catch (err) {
        this.#log.error({ err, port: this.port, address: address.host, code: errorCode(err) }, 'cannot listen on this address (ENABLE_IPV6); the port is served on the others');
      }
    }
  }

  /** A listening server: errors after listen (EMFILE on accept, ...) are logged, never thrown. */
  #adopt(server: NetServer): void {
    this.#servers.push(server);
    server.on('error', (err) => this.#log.error({ err, port: this.port, code: errorCode(err) }, 'listener error'));
  }

  #netServer(): NetServer {
    // The options node:http itself gives its server (half-open sockets are node:http's business, noDelay for latency).
    const server = createNetServer({ allowHalfOpen: true, noDelay: true });
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
    return server;
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) this.#onDrained?.();
    });
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#pending.add(socket);
    const s = this.#settings;
    const onRejected = (reason: string): void => this.#log.debug({ port: this.port, reason }, 'connection closed before HTTP');
    void readConnectionPrefix(socket, { proxyProtocol: s.enableProxyProtocol, timeoutMs: s.clientHeaderTimeoutMs, onRejected }).then((kind) => {
      this.#pending.delete(socket);
      if (kind === undefined || socket.destroyed) return;
      if (kind === 'http2') {
        this.#h2.accept(socket);
        return;
      }
      if (this.#fast === undefined) this.#toHttp1(socket);
      else this.#fast.accept(socket);
    });
  }

  /** node:http's server takes the connection (from the fast lane, or directly with BERTH_FAST_LANE=false). */
  #toHttp1(socket: Socket): void {
    this.#http1Sockets.set(socket, undefined);
    socket.once('close', () => this.#http1Sockets.delete(socket));
    this.#http1.emit('connection', socket);
    socket.resume(); // flushes the bytes put back in the read buffer to the HTTP parser
  }

  /**
   * Stops accepting, lets requests in flight finish (keep-alive connections close once idle, HTTP/2 sessions get
   * GOAWAY), and after `graceMs` closes what is left. Resolves once every connection of this port is closed:
   * 'timeout' when some had to be cut. May be called again (stop during a port's retirement): the earlier deadline wins.
   */
  close(graceMs: number): Promise<'closed' | 'timeout'> {
    this.#drained ??= this.#beginClose();
    const drained = this.#drained;
    return new Promise((resolve) => {
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        this.#forceClose();
      }, graceMs);
      void drained.then(() => {
        clearTimeout(timer);
        resolve(forced ? 'timeout' : 'closed');
      });
    });
  }

  #beginClose(): Promise<void> {
    this.#closing = true;
    for (const server of this.#servers) server.close();
    for (const socket of this.#pending) socket.destroy();
    // Responses still under way on keep-alive connections end with `Connection: close` (as nginx's closing workers
    // do). `_httpMessage` is the response node:http is writing on a socket; its own closeIdleConnections reads it too.
    for (const socket of this.#http1Sockets.keys()) {
      const res = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res !== undefined && res !== null && !res.headersSent) res.setHeader('connection', 'close');
    }
    this.#http1.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close'));
    this.#fast?.close();
    this.#h2.closeGracefully();
    // Idle keep-alive connections close now; those whose response was under way when the close began become idle
    // later: sweep them. Not node:http's closeIdleConnections (nor its close(), which calls it): it destroys a
    // connection whose response is finished but still being flushed to a slow reader, cutting the response short.
    this.#closeIdleHttp1();
    const sweeper = setInterval(() => this.#closeIdleHttp1(), 100);
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearInterval(sweeper);
        this.#http1.close(); // no connection left: this only stops its connection checks (an interval)
        resolve();
      };
      if (this.#sockets.size === 0) done();
      else this.#onDrained = done;
    });
  }

  /**
   * Closes node:http's idle connections: no response being written or flushed (`_httpMessage`, node:http's own
   * field, is cleared once the last byte was handed to the kernel), nothing read since the last response finished
   * (no next request started, no upgrade), nothing left in the socket's buffer.
   */
  #closeIdleHttp1(): void {
    for (const [socket, readAtFinish] of this.#http1Sockets) {
      const res = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res !== undefined && res !== null) continue;
      if (readAtFinish === undefined || readAtFinish !== socket.bytesRead || socket.writableLength > 0) continue;
      socket.destroy();
    }
  }

  #forceClose(): void {
    this.#http1.closeAllConnections();
    this.#h2.destroyAll();
    for (const socket of this.#sockets) socket.destroy();
  }
}
