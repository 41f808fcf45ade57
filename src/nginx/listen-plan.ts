import { isIP } from 'node:net';
import type { Config } from '../config.ts';
import type { Route, RoutingTable, VirtualHost } from '../routing-table.ts';
import { type DroppedContainer, dropWith } from './dropped.ts';
import { formatServerAddress } from './escape.ts';

/**
 * Which port serves which host, and how each port is listened on. A host with EXTERNAL_HTTP_PORT P is served only on
 * P (listened on in addition to HTTP_PORT); the others only on HTTP_PORT.
 *
 * gRPC: clients speak h2c with prior knowledge. nginx 1.22 turns HTTP/2 on per listening socket (`listen ... http2`;
 * `http2 on` per server needs 1.25.1), and such a socket no longer understands HTTP/1. So a port gets `http2` only
 * when every host served on it has only grpc/grpcs routes; on any other port the grpc routes are left out and their
 * containers reported (they need their own EXTERNAL_HTTP_PORT).
 */

export interface PortPlan {
  readonly portOf: (host: VirtualHost) => number;
  /** Every port listened on, ascending. */
  readonly ports: readonly number[];
  readonly http2Ports: ReadonlySet<number>;
}

export const isGrpc = (route: Route): boolean => route.proto === 'grpc' || route.proto === 'grpcs';

export function planPorts(table: RoutingTable, config: Config): PortPlan {
  const portOf = (host: VirtualHost): number => host.httpPort ?? config.httpPort;
  const hostsByPort = new Map<number, VirtualHost[]>([[config.httpPort, []]]);
  for (const host of table.hosts) {
    const port = portOf(host);
    hostsByPort.set(port, [...(hostsByPort.get(port) ?? []), host]);
  }
  const http2Ports = new Set<number>();
  for (const [port, hosts] of hostsByPort) {
    if (hosts.length > 0 && hosts.every((h) => h.routes.length > 0 && h.routes.every(isGrpc))) http2Ports.add(port);
  }
  return { portOf, ports: [...hostsByPort.keys()].sort((a, b) => a - b), http2Ports };
}

/** Why a host's port cannot be listened on, or undefined. */
export function unsafePort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `${String(port)} is not a port from 1 to 65535`;
}

/** The grpc routes of `host` left out because its port also serves HTTP/1 hosts. */
export function droppedGrpc(host: VirtualHost, routes: readonly Route[], port: number): DroppedContainer[] {
  const protos = [...new Set(routes.map((r) => r.proto))].join(',');
  const what =
    `VIRTUAL_PROTO=${protos} needs a port of its own in the nginx data plane: nginx 1.22 cannot serve HTTP/1 and ` +
    `gRPC (h2c) on one port, and port ${port} serves HTTP/1 routes too; give host ${host.hostname} its own ` +
    `EXTERNAL_HTTP_PORT (with only grpc routes on it)`;
  return dropWith(host, routes, 'VIRTUAL_PROTO', protos, what).map((d) => ({ ...d, code: 'ERR_SETTING_UNSUPPORTED' as const }));
}

/**
 * The addresses listened on for `port`: all addresses (or BERTH_LISTEN_ADDRESS), and with ENABLE_IPV6 the IPv6 twin
 * (`[::]`, or `[::1]` when berth listens on 127.0.0.1 only; none when the address is already IPv6).
 */
export function listenAddresses(port: number, config: Pick<Config, 'listenAddress' | 'enableIpv6'>): string[] {
  const address = config.listenAddress;
  const wildcard = address === undefined || address === '*' || address === '0.0.0.0';
  const main = address === undefined ? String(port) : formatServerAddress(address, port);
  if (!config.enableIpv6 || (address !== undefined && isIP(address) === 6)) return [main];
  const twin = !wildcard && address.startsWith('127.') ? `[::1]:${port}` : `[::]:${port}`;
  return [main, twin];
}

export interface ListenOptions {
  readonly http2: boolean;
  readonly proxyProtocol: boolean;
  readonly defaultServer: boolean;
}

/** The arguments of each `listen` for `port` (render raw: built from numbers and validated addresses only). */
export function listenArgs(port: number, config: Pick<Config, 'listenAddress' | 'enableIpv6'>, options: ListenOptions): string[] {
  const flags = [options.http2 ? 'http2' : '', options.proxyProtocol ? 'proxy_protocol' : '', options.defaultServer ? 'default_server' : '']
    .filter((f) => f !== '')
    .join(' ');
  return listenAddresses(port, config).map((a) => (flags === '' ? a : `${a} ${flags}`));
}
