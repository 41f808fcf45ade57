import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Route, RoutingTable, Upstream, VirtualHost } from '../routing-table.ts';
import { commentSafe, formatServerAddress, includeLiteral, unsafeAddress, unsafeHostname, unsafePath } from './escape.ts';

/**
 * RoutingTable + Config -> the plain data the Eta templates render. Every value that reaches nginx syntax is
 * validated here; a value that cannot be written safely drops that host (or route, or upstream) with a
 * DroppedContainer naming container, setting and value, and every other host keeps working.
 */

/** A container left out of the nginx config because one of its values cannot be written safely. */
export interface DroppedContainer {
  /** Empty when the dropped host had no containers (host known, no reachable backend). */
  readonly containerId: string;
  readonly containerName: string;
  readonly host: string;
  /** `VIRTUAL_HOST`, `VIRTUAL_PATH` or `address`. */
  readonly setting: string;
  readonly value: string;
  readonly message: string;
}

export interface UpstreamServerModel {
  /** `ip:port`, IPv6 bracketed. */
  readonly address: string;
  /** Comment-safe container name. */
  readonly container: string;
}

/**
 * Passive health (nginx's own circuit breaker): `max_fails` failed attempts within `fail_timeout` take a server out
 * for `fail_timeout`. nginx ignores both for an upstream with a single server.
 */
export interface PassiveHealthModel {
  /** 0 disables (BERTH_CIRCUIT_BREAK=0). */
  readonly maxFails: number;
  /** Whole seconds: nginx refuses `ms` in fail_timeout. */
  readonly failTimeoutS: number;
}

export interface LocationModel {
  readonly path: string;
  readonly upstream: string;
  /** Include path (glob-escaped) of the first existing `_location` snippet, if any. */
  readonly snippet: string | undefined;
  /**
   * The route has backends but none is ready (starting, draining, unhealthy): the location answers 503 with
   * Retry-After instead of proxying. nginx cannot hold a request until a backend is ready; berth re-renders as soon
   * as one is. (A route with no backend at all keeps nginx-proxy's 502.)
   */
  readonly unavailable: boolean;
}

export interface UpstreamModel {
  readonly name: string;
  /** `<hostname><path>`, comment-safe. */
  readonly comment: string;
  /** Only the ready backends: the others get no new requests. */
  readonly servers: readonly UpstreamServerModel[];
  /** Comment-safe names of the backends left out because they are not ready. */
  readonly notReady: readonly string[];
  readonly keepalive: number;
  /** Idle upstream keep-alive connections are closed after this (below Node's 5 s server keep-alive). */
  readonly keepaliveTimeoutMs: number;
  readonly passiveHealth: PassiveHealthModel;
}

export interface ServerModel {
  readonly hostname: string;
  readonly isDefault: boolean;
  /** Include path (glob-escaped) of `vhost.d/<host>` or `vhost.d/default`, if one exists. */
  readonly snippet: string | undefined;
  readonly upstreams: readonly UpstreamModel[];
  readonly locations: readonly LocationModel[];
  /** False when no route has path `/`: the server then answers 404 at `/`, as nginx-proxy's DEFAULT_ROOT does. */
  readonly hasRootLocation: boolean;
}

export interface NginxModel {
  /** The `listen` argument: `port` or `address:port`. */
  readonly listen: string;
  readonly httpPort: number;
  readonly trustDownstreamProxy: boolean;
  /** Whether the 503 fallback server listens on the HTTP port (not when DEFAULT_HOST names a routed host). */
  readonly fallbackListens: boolean;
  /** Include path of config.nginx.proxyConf when it exists (replaces the built-in proxy header block). */
  readonly proxyConf: string | undefined;
  readonly accessLog: string;
  readonly timeouts: { readonly connectMs: number; readonly readMs: number; readonly clientHeaderMs: number; readonly keepaliveMs: number };
  readonly servers: readonly ServerModel[];
}

export interface BuildModelResult {
  readonly model: NginxModel;
  readonly dropped: readonly DroppedContainer[];
}

export interface ModelOptions {
  /** Where server blocks write their access log (`off` disables). */
  readonly accessLog: string;
  /** Whether a snippet file exists; injected so the builder stays pure. */
  readonly exists: (path: string) => boolean;
  /** Path written in `include` for an existing snippet file (the data plane points it at a validated copy). */
  readonly includePath?: (source: string) => string;
  /** Whether a backend may receive new requests (the ReadinessTracker); every backend when omitted. */
  readonly isReady?: (upstream: Upstream) => boolean;
}

/**
 * Upstream keep-alive connections idle longer than this are closed by nginx. It must stay below the backends' own
 * idle timeout (Node's http server: 5 s), or nginx may reuse a connection the backend is closing at that very
 * moment and the request fails.
 */
export const UPSTREAM_KEEPALIVE_TIMEOUT_MS = 4000;
/** nginx's circuit breaker trips after this many failed attempts, like the ReadinessTracker's. */
export const PASSIVE_MAX_FAILS = 3;

export function passiveHealth(circuitBreakMs: number): PassiveHealthModel {
  if (circuitBreakMs <= 0) return { maxFails: 0, failTimeoutS: 1 };
  return { maxFails: PASSIVE_MAX_FAILS, failTimeoutS: Math.max(1, Math.ceil(circuitBreakMs / 1000)) };
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** nginx-proxy's predictable names: the host name, plus `-<sha1(path)>` for a non-root path. */
export function upstreamName(hostname: string, path: string): string {
  return path === '/' ? hostname : `${hostname}-${sha1(path)}`;
}

function dropAll(host: VirtualHost, routes: readonly Route[], setting: string, value: string, reason: string): DroppedContainer[] {
  const containers = new Map<string, Upstream>();
  for (const r of routes) for (const u of r.upstreams) containers.set(u.containerId, u);
  const what = `${setting} ${JSON.stringify(value)} cannot be written into nginx config: ${reason}`;
  if (containers.size === 0) {
    return [{ containerId: '', containerName: '', host: host.hostname, setting, value, message: `host ${host.hostname}: ${what}; host dropped` }];
  }
  return [...containers.values()].map((u) => ({
    containerId: u.containerId,
    containerName: u.containerName,
    host: host.hostname,
    setting,
    value,
    message: `container ${u.containerName}: ${what}; dropped from host ${host.hostname}`,
  }));
}

function firstExisting(paths: readonly string[], options: ModelOptions): string | undefined {
  const found = paths.find((p) => options.exists(p));
  if (found === undefined) return undefined;
  return includeLiteral(options.includePath === undefined ? found : options.includePath(found));
}

function buildUpstream(host: VirtualHost, route: Route, ctx: BuildContext): UpstreamModel {
  const { dropped } = ctx;
  const servers: UpstreamServerModel[] = [];
  const notReady: string[] = [];
  for (const u of route.upstreams) {
    const reason = unsafeAddress(u.address, u.port);
    if (reason !== undefined) {
      const value = `${u.address}:${u.port}`;
      dropped.push({
        containerId: u.containerId,
        containerName: u.containerName,
        host: host.hostname,
        setting: 'address',
        value,
        message: `container ${u.containerName}: address ${JSON.stringify(value)} cannot be written into nginx config: ${reason}; dropped from host ${host.hostname}`,
      });
      continue;
    }
    if (ctx.isReady(u)) servers.push({ address: formatServerAddress(u.address, u.port), container: commentSafe(u.containerName) });
    else notReady.push(commentSafe(u.containerName));
  }
  return {
    name: upstreamName(host.hostname, route.path),
    comment: commentSafe(`${host.hostname}${route.path}`),
    servers,
    notReady,
    keepalive: 2 * Math.max(1, servers.length),
    keepaliveTimeoutMs: UPSTREAM_KEEPALIVE_TIMEOUT_MS,
    passiveHealth: ctx.passiveHealth,
  };
}

interface BuildContext {
  readonly dropped: DroppedContainer[];
  readonly isReady: (upstream: Upstream) => boolean;
  readonly passiveHealth: PassiveHealthModel;
}

function buildServer(host: VirtualHost, config: Config, options: ModelOptions, ctx: BuildContext): ServerModel | undefined {
  const { dropped } = ctx;
  const hostReason = unsafeHostname(host.hostname);
  if (hostReason !== undefined) {
    dropped.push(...dropAll(host, host.routes, 'VIRTUAL_HOST', host.hostname, hostReason));
    return undefined;
  }
  const vhostDir = config.nginx.vhostDir;
  const upstreams: UpstreamModel[] = [];
  const locations: LocationModel[] = [];
  for (const route of host.routes) {
    const pathReason = unsafePath(route.path);
    if (pathReason !== undefined) {
      dropped.push(...dropAll(host, [route], 'VIRTUAL_PATH', route.path, pathReason));
      continue;
    }
    const upstream = buildUpstream(host, route, ctx);
    upstreams.push(upstream);
    const candidates = [`${host.hostname}_${sha1(route.path)}_location`, `${host.hostname}_location`, 'default_location'];
    locations.push({
      path: route.path,
      upstream: upstream.name,
      snippet: firstExisting(candidates.map((f) => join(vhostDir, f)), options),
      unavailable: upstream.servers.length === 0 && upstream.notReady.length > 0,
    });
  }
  if (locations.length === 0) return undefined;
  return {
    hostname: host.hostname,
    isDefault: config.defaultHost === host.hostname,
    snippet: firstExisting([join(vhostDir, host.hostname), join(vhostDir, 'default')], options),
    upstreams,
    locations,
    hasRootLocation: locations.some((l) => l.path === '/'),
  };
}

export function buildNginxModel(table: RoutingTable, config: Config, options: ModelOptions): BuildModelResult {
  const dropped: DroppedContainer[] = [];
  const servers: ServerModel[] = [];
  const ctx: BuildContext = { dropped, isReady: options.isReady ?? (() => true), passiveHealth: passiveHealth(config.circuitBreakMs) };
  for (const host of table.hosts) {
    const server = buildServer(host, config, options, ctx);
    if (server !== undefined) servers.push(server);
  }
  const listenAddress = config.listenAddress;
  const listen =
    listenAddress === undefined ? String(config.httpPort) : `${formatServerAddress(listenAddress, config.httpPort)}`;
  const model: NginxModel = {
    listen,
    httpPort: config.httpPort,
    trustDownstreamProxy: config.trustDownstreamProxy,
    fallbackListens: !servers.some((s) => s.isDefault),
    proxyConf: firstExisting([config.nginx.proxyConf], options),
    accessLog: options.accessLog,
    timeouts: {
      connectMs: config.upstreamConnectTimeoutMs,
      readMs: config.upstreamTimeoutMs,
      clientHeaderMs: config.clientHeaderTimeoutMs,
      keepaliveMs: config.clientKeepAliveTimeoutMs,
    },
    servers,
  };
  return { model, dropped };
}
