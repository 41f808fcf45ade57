import type { LoadBalance, Route, Upstream, VirtualHost } from '../routing-table.ts';
import { sha1 } from '../sha1.ts';
import { type DroppedContainer, dropRoutes } from './dropped.ts';
import { commentSafe, formatServerAddress, unsafeAddress } from './escape.ts';
import { isRequestVariable, variableTextToken, type Token } from './nginx-tokens.ts';

/** One `upstream` block per route: nginx-proxy's naming, the loadbalance/keepalive labels, only ready backends. */

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

export interface UpstreamModel {
  readonly name: string;
  /** `<hostname><path>`, comment-safe. */
  readonly comment: string;
  /** Only the ready backends: the others get no new requests. */
  readonly servers: readonly UpstreamServerModel[];
  /** Comment-safe names of the backends left out because they are not ready. */
  readonly notReady: readonly string[];
  /** The loadbalance label as its nginx directive, without `;` (`least_conn`, `hash $remote_addr consistent`); raw. */
  readonly loadBalance: string | undefined;
  /** Idle keep-alive connections kept per worker; undefined when the keepalive label says `disabled`. */
  readonly keepalive: number | undefined;
  /** Idle upstream keep-alive connections are closed after this (below Node's 5 s server keep-alive). */
  readonly keepaliveTimeoutMs: number;
  readonly passiveHealth: PassiveHealthModel;
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

export { sha1 };

/**
 * The name nginx-proxy gives a host's upstreams, and its snippet files: the host name, or sha1(host) for a regex host
 * or with SHA1_UPSTREAM_NAME. An IPv6 host is hashed too (berth's choice): `http://[fd00::1]` in proxy_pass is read
 * as an address, not an upstream name, and `[fd00::1]-<sha1>` is no valid URL host at all.
 */
export function upstreamBaseName(host: Pick<VirtualHost, 'hostname' | 'kind'>, sha1UpstreamName: boolean): string {
  return host.kind === 'regex' || host.kind === 'ipv6' || sha1UpstreamName ? sha1(host.hostname) : host.hostname;
}

/** nginx-proxy's upstream names: the base name, plus `-<sha1(path)>` for a non-root path. */
export function upstreamName(baseName: string, path: string): string {
  return path === '/' ? baseName : `${baseName}-${sha1(path)}`;
}

/** The loadbalance label's directive (without `;`), undefined for round robin (nginx's default). */
export function loadBalanceToken(lb: LoadBalance): Token | undefined {
  switch (lb.kind) {
    case 'round-robin':
      return undefined;
    case 'least_conn':
    case 'ip_hash':
      return { ok: true, token: lb.kind };
    case 'random':
      return { ok: true, token: lb.two ? 'random two least_conn' : 'random' };
    case 'hash': {
      const key = variableTextToken(lb.key, isRequestVariable);
      if (!key.ok) return key;
      return { ok: true, token: `hash ${key.token}${lb.consistent ? ' consistent' : ''}` };
    }
  }
}

export function describeLoadBalance(lb: LoadBalance): string {
  if (lb.kind === 'hash') return `hash ${lb.key}${lb.consistent ? ' consistent' : ''}`;
  if (lb.kind === 'random') return lb.two ? 'random two' : 'random';
  return lb.kind;
}

export const LOADBALANCE_LABEL = 'com.github.nginx-proxy.nginx-proxy.loadbalance';
export const KEEPALIVE_LABEL = 'com.github.nginx-proxy.nginx-proxy.keepalive';

export interface UpstreamContext {
  readonly dropped: DroppedContainer[];
  readonly isReady: (upstream: Upstream) => boolean;
  readonly passiveHealth: PassiveHealthModel;
}

/** The route's upstream block; undefined (route dropped, reported) when its loadbalance directive cannot be written. */
export function buildUpstream(host: VirtualHost, route: Route, name: string, ctx: UpstreamContext): UpstreamModel | undefined {
  const lb = loadBalanceToken(route.loadBalance);
  if (lb !== undefined && !lb.ok) {
    ctx.dropped.push(...dropRoutes(host, [route], LOADBALANCE_LABEL, describeLoadBalance(route.loadBalance), lb.reason));
    return undefined;
  }
  if (typeof route.keepalive === 'number' && !(Number.isInteger(route.keepalive) && route.keepalive >= 1)) {
    ctx.dropped.push(...dropRoutes(host, [route], KEEPALIVE_LABEL, String(route.keepalive), 'it is not auto, disabled or a whole number from 1'));
    return undefined;
  }
  const servers: UpstreamServerModel[] = [];
  const notReady: string[] = [];
  for (const u of route.upstreams) {
    const reason = unsafeAddress(u.address, u.port);
    if (reason !== undefined) {
      const value = `${u.address}:${u.port}`;
      ctx.dropped.push({
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
  const keepalive = route.keepalive === 'disabled' ? undefined : route.keepalive === 'auto' ? 2 * Math.max(1, servers.length) : route.keepalive;
  return {
    name,
    comment: commentSafe(`${host.hostname}${route.path}`),
    servers,
    notReady,
    loadBalance: lb?.token,
    keepalive,
    keepaliveTimeoutMs: UPSTREAM_KEEPALIVE_TIMEOUT_MS,
    passiveHealth: ctx.passiveHealth,
  };
}
