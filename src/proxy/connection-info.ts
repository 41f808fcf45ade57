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
  /** The port the client connected to (nginx's $server_port): the listener's port, or the PROXY header's. */
  readonly localPort: number;
}

const recorded = new WeakMap<object, ConnectionInfo>();

/** Called by the listener once a PROXY protocol header was read on `socket`. */
export function recordConnectionInfo(socket: object, info: ConnectionInfo): void {
  recorded.set(socket, info);
}

export function connectionInfo(socket: Socket | { remoteAddress?: string; remotePort?: number; localPort?: number }, fallbackPort: number): ConnectionInfo {
  const info = recorded.get(socket);
  if (info !== undefined) return info;
  return {
    clientAddress: clientAddress(socket.remoteAddress),
    clientPort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? fallbackPort,
  };
}
