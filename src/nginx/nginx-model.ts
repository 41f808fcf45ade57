import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { htpasswdDir } from '../basic-auth-files.ts';
import { DEFAULT_LOG_FORMAT, type Config } from '../config.ts';
import type { RoutingTable, Upstream } from '../routing-table.ts';
import { type DroppedContainer, droppedSetting } from './dropped.ts';
import { includeLiteral } from './escape.ts';
import { listenArgs, planPorts } from './listen-plan.ts';
import { returnArgsToken, variableTextToken } from './nginx-tokens.ts';
import { buildServer, type ServerContext, type ServerModel } from './server-model.ts';
import { passiveHealth } from './upstream-model.ts';

/**
 * RoutingTable + Config -> the plain data the Eta templates render. Every value that reaches nginx syntax is
 * validated here (server-model, location-model, upstream-model, listen-plan); a value that cannot be written safely
 * drops that host (or route, or upstream) with a DroppedContainer naming container, setting and value, and every
 * other host keeps working. A proxy-wide setting that cannot be written falls back to its default, reported the same
 * way.
 */

export type { DroppedContainer } from './dropped.ts';
export type { LocationModel } from './location-model.ts';
export type { ServerModel } from './server-model.ts';
export type { PassiveHealthModel, UpstreamModel, UpstreamServerModel } from './upstream-model.ts';
export { PASSIVE_MAX_FAILS, passiveHealth, sha1, UPSTREAM_KEEPALIVE_TIMEOUT_MS, upstreamName } from './upstream-model.ts';

export interface NginxModel {
  /** The first `listen` argument of HTTP_PORT (kept for custom templates; servers carry their own `listens`). */
  readonly listen: string;
  readonly httpPort: number;
  readonly trustDownstreamProxy: boolean;
  /** ENABLE_PROXY_PROTOCOL: every listen has `proxy_protocol`; realip takes the client address from the header. */
  readonly proxyProtocol: boolean;
  /** The `listen` arguments of the 503 fallback server: every port, except one a DEFAULT_HOST server is default on. */
  readonly fallback: readonly string[];
  /** Whether the fallback server exists at all (kept for custom templates). */
  readonly fallbackListens: boolean;
  /** Include path of config.nginx.proxyConf when it exists (replaces the built-in proxy header block). */
  readonly proxyConf: string | undefined;
  /** Access log target of every server block; `off` (DISABLE_ACCESS_LOGS, or stdout unusable) writes none. */
  readonly accessLog: string;
  /** The `vhost` log_format: `escape=` value and the format as one token (render raw). */
  readonly logFormat: { readonly escape: string; readonly format: string };
  /** RESOLVERS as `resolver` arguments (render raw); undefined = no resolver directive. */
  readonly resolvers: string | undefined;
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

/** nginx-proxy's network_internal.conf: `/etc/nginx/network_internal.conf`, beside proxy.conf. */
export function networkInternalPath(config: Config): string {
  return join(dirname(config.nginx.proxyConf), 'network_internal.conf');
}

export { htpasswdDir };

function firstInclude(options: ModelOptions): (paths: readonly string[]) => string | undefined {
  return (paths) => {
    const found = paths.find((p) => options.exists(p));
    if (found === undefined) return undefined;
    return includeLiteral(options.includePath === undefined ? found : options.includePath(found));
  };
}

function defaultRoot(config: Config, dropped: DroppedContainer[]): string | undefined {
  if (config.defaultRoot === undefined) return undefined;
  const token = returnArgsToken(config.defaultRoot);
  if (token.ok) return token.token;
  dropped.push(droppedSetting('DEFAULT_ROOT', config.defaultRoot, token.reason, 'hosts without a / path answer 404 there'));
  return '404';
}

function logFormat(config: Config, dropped: DroppedContainer[]): NginxModel['logFormat'] {
  const { format, escape } = config.accessLog;
  // Any variable name is accepted: a user's conf.d may define its own (a typo fails nginx -t, naming the variable).
  const token = variableTextToken(format, () => true);
  if (token.ok) return { escape, format: token.token };
  dropped.push(droppedSetting('LOG_FORMAT', format, token.reason, "nginx-proxy's default format is used"));
  return { escape, format: (variableTextToken(DEFAULT_LOG_FORMAT, () => true) as { token: string }).token };
}

function resolvers(config: Config, dropped: DroppedContainer[]): string | undefined {
  if (config.resolvers === undefined) return undefined;
  const parts = config.resolvers.split(/\s+/).filter((p) => p !== '');
  const bad = parts.find((p) => !/^[A-Za-z0-9_.:[\]=%-]+$/.test(p));
  if (bad === undefined && parts.length > 0) return parts.join(' ');
  dropped.push(droppedSetting('RESOLVERS', config.resolvers, `${JSON.stringify(bad ?? '')} is not an address or resolver option`, 'no resolver directive'));
  return undefined;
}

/** BERTH_LISTEN_ADDRESS as nginx reads it in `listen`: an IP literal, `*`, or a host name. */
function listenConfig(config: Config, dropped: DroppedContainer[]): Config {
  const a = config.listenAddress;
  if (a === undefined || isIP(a) !== 0 || a === '*' || /^[A-Za-z0-9.-]+$/.test(a)) return config;
  dropped.push(droppedSetting('BERTH_LISTEN_ADDRESS', a, 'it is not an address', 'nginx listens on all addresses'));
  return { ...config, listenAddress: undefined };
}

export function buildNginxModel(table: RoutingTable, inputConfig: Config, options: ModelOptions): BuildModelResult {
  const dropped: DroppedContainer[] = [];
  const config = listenConfig(inputConfig, dropped);
  const include = firstInclude(options);
  const ctx: ServerContext = {
    dropped,
    config,
    plan: planPorts(table, config),
    defaultRoot: defaultRoot(config, dropped),
    isReady: options.isReady ?? (() => true),
    passiveHealth: passiveHealth(config.circuitBreakMs),
    vhostDir: config.nginx.vhostDir,
    htpasswdDir: htpasswdDir(config),
    internalInclude: include([networkInternalPath(config)]),
    exists: options.exists,
    firstInclude: include,
  };
  const servers: ServerModel[] = [];
  for (const host of table.hosts) {
    const server = buildServer(host, ctx);
    if (server !== undefined) servers.push(server);
  }
  const proxyProtocol = config.enableProxyProtocol;
  const ports = [...new Set([config.httpPort, ...servers.map((s) => s.port)])].sort((a, b) => a - b);
  const fallback = ports
    .filter((port) => !servers.some((s) => s.isDefault && s.port === port))
    .flatMap((port) => listenArgs(port, config, { http2: ctx.plan.http2Ports.has(port), proxyProtocol, defaultServer: false }));
  const model: NginxModel = {
    listen: listenArgs(config.httpPort, { ...config, enableIpv6: false }, { http2: false, proxyProtocol: false, defaultServer: false })[0] ?? '',
    httpPort: config.httpPort,
    trustDownstreamProxy: config.trustDownstreamProxy,
    proxyProtocol,
    fallback,
    fallbackListens: fallback.length > 0,
    proxyConf: include([config.nginx.proxyConf]),
    accessLog: config.accessLog.enabled ? options.accessLog : 'off',
    logFormat: logFormat(config, dropped),
    resolvers: resolvers(config, dropped),
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
