import type { Socket } from 'node:net';
import { clientAddress } from './request-target.ts';

/**
 * Who is on the other end of a client connection, as every part of the Node data plane must see it: the socket's
 * own addresses, unless a PROXY protocol header (ENABLE_PROXY_PROTOCOL) said otherwise, in which case the listener
 * records the header's addresses here before any request is parsed. X-Forwarded-For, X-Real-IP, NETWORK_ACCESS,
 * client-address hashing and the access log all read this, never `socket.remoteAddress` directly.
 */
export interface ConnectionInfo {
  /** Client address, IPv4-mapped IPv6 unwrapped (`::ffff:1.2.3.4` -> `1.2.3.4`). */
  readonly clientAddress: string;
  readonly clientPort: number;
  /**
   * The port the connection arrived on (nginx's $server_port): the listener's own port, also with a PROXY header,
   * because hosts are matched per listening port (EXTERNAL_HTTP_PORT) and nginx's $server_port is the real one too.
   */
  readonly localPort: number;
  /**
   * The PROXY header's destination port (nginx's $proxy_protocol_server_port), when one was read: nginx-proxy sends
   * it as X-Forwarded-Port when TRUST_DOWNSTREAM_PROXY is on.
   */
  readonly proxyServerPort?: number;
}

const recorded = new WeakMap<object, ConnectionInfo>();

/** Called by the listener once a PROXY protocol header was read on `socket`. */
export function recordConnectionInfo(socket: object, info: ConnectionInfo): void {
  recorded.set(socket, info);
}

export function connectionInfo(socket: Socket | { remoteAddress?: string; remotePort?: number; localPort?: number }, fallbackPort: number): ConnectionInfo {
  let info = recorded.get(socket);
  if (info !== undefined) return info;
  info = {
    clientAddress: clientAddress(socket.remoteAddress),
    clientPort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? fallbackPort,
  };
  // Keep-alive connections carry many requests: computed once per connection (the addresses do not change).
  if (socket.remoteAddress !== undefined) recorded.set(socket, info);
  return info;
}
