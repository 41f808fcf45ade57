import { join } from 'node:path';
import { vhostFileName } from '../basic-auth-files.ts';
import type { Config } from '../config.ts';
import type { Route, VirtualHost } from '../routing-table.ts';
import { debugReturnToken, DEBUG_PATH } from './debug-endpoint.ts';
import { type DroppedContainer, droppedSetting, dropRoutes } from './dropped.ts';
import { unsafeHostname } from './escape.ts';
import { droppedGrpc, isGrpc, listenArgs, unsafePort, type PortPlan } from './listen-plan.ts';
import { buildLocation, coversRoot, locationKey, type LocationContext, type LocationModel } from './location-model.ts';
import { regexToken, type Token } from './nginx-tokens.ts';
import { buildUpstream, upstreamBaseName, upstreamName, type UpstreamContext, type UpstreamModel } from './upstream-model.ts';

/** One `server` block per virtual host, with its upstreams and locations. */

export interface ServerModel {
  /** VIRTUAL_HOST as in the table (for logs and error explanations). */
  readonly hostname: string;
  /** The `server_name` argument, already escaped (a regex quoted): render raw. */
  readonly serverName: string;
  /** The port this host is served on (EXTERNAL_HTTP_PORT, else HTTP_PORT). */
  readonly port: number;
  /** Arguments of each `listen` (address:port + http2 / proxy_protocol / default_server): render raw. */
  readonly listens: readonly string[];
  readonly isDefault: boolean;
  /** SERVER_TOKENS for this host (`on`, `off`, `build`), undefined when unset. */
  readonly serverTokens: string | undefined;
  /** Include path (glob-escaped) of `vhost.d/<host>` or `vhost.d/default`, if one exists. */
  readonly snippet: string | undefined;
  readonly upstreams: readonly UpstreamModel[];
  readonly locations: readonly LocationModel[];
  /** True when a route is the prefix `/`; else `location / { return <defaultRoot>; }` (unless DEFAULT_ROOT=none). */
  readonly hasRootLocation: boolean;
  /** Arguments of `return` for `location /` (DEFAULT_ROOT), render raw; undefined = no such location. */
  readonly defaultRoot: string | undefined;
  /** Arguments of `return` for `location /nginx-proxy-debug` (JSON), render raw; undefined = no debug location. */
  readonly debug: string | undefined;
}

export interface ServerContext extends UpstreamContext, LocationContext {
  readonly dropped: DroppedContainer[];
  readonly config: Config;
  readonly plan: PortPlan;
  /** DEFAULT_ROOT as `return` arguments, validated once; undefined = none. */
  readonly defaultRoot: string | undefined;
}

const SERVER_TOKENS = ['on', 'off', 'build'];

function serverNameToken(host: VirtualHost): Token {
  if (host.kind === 'regex') return regexToken(host.hostname);
  const reason = unsafeHostname(host.hostname);
  return reason === undefined ? { ok: true, token: host.hostname } : { ok: false, reason };
}

type HostCheck = { readonly ok: true; readonly serverName: string } | { readonly ok: false; readonly setting: string; readonly value: string; readonly reason: string };

/** The host's server_name token, or why the host as a whole cannot be written (name, port, server_tokens). */
function checkHost(host: VirtualHost, ctx: ServerContext): HostCheck {
  const name = serverNameToken(host);
  if (!name.ok) return { ok: false, setting: 'VIRTUAL_HOST', value: host.hostname, reason: name.reason };
  const port = ctx.plan.portOf(host);
  const portReason = unsafePort(port);
  if (portReason !== undefined) return { ok: false, setting: 'EXTERNAL_HTTP_PORT', value: String(port), reason: portReason };
  if (host.serverTokens !== undefined && !SERVER_TOKENS.includes(host.serverTokens.toLowerCase())) {
    return { ok: false, setting: 'SERVER_TOKENS', value: host.serverTokens, reason: `nginx accepts ${SERVER_TOKENS.join(', ')}` };
  }
  return { ok: true, serverName: name.token };
}

export { vhostFileName } from '../basic-auth-files.ts';

interface Built {
  readonly routes: Route[];
  readonly upstreams: UpstreamModel[];
  readonly locations: LocationModel[];
}

function buildRoutes(host: VirtualHost, routes: readonly Route[], ctx: ServerContext): Built {
  const vhostName = vhostFileName(host);
  const baseName = upstreamBaseName(host, ctx.config.sha1UpstreamName);
  const built: Built = { routes: [], upstreams: [], locations: [] };
  const keys = new Map<string, string>();
  for (const route of routes) {
    const key = locationKey(route.match);
    const taken = key === undefined ? undefined : keys.get(key);
    if (taken !== undefined) {
      ctx.dropped.push(...dropRoutes(host, [route], 'VIRTUAL_PATH', route.path, `it is the same nginx location as path ${JSON.stringify(taken)}`));
      continue;
    }
    // The upstream's own findings (unwritable addresses) count only if the location can be written at all.
    const local: DroppedContainer[] = [];
    const upstream = buildUpstream(host, route, upstreamName(baseName, route.path), { ...ctx, dropped: local });
    const location = upstream === undefined ? undefined : buildLocation(host, route, upstream, vhostName, { ...ctx, dropped: local });
    ctx.dropped.push(...(location === undefined ? local.filter((d) => d.setting !== 'address') : local));
    if (upstream === undefined || location === undefined) continue;
    if (key !== undefined) keys.set(key, route.path);
    built.routes.push(route);
    built.upstreams.push(upstream);
    built.locations.push(location);
  }
  return built;
}

function debugLocation(host: VirtualHost, built: Built, ctx: ServerContext): string | undefined {
  const { config } = ctx;
  const wanted = (host.debugEndpoint ?? config.debugEndpoint) && !built.routes.some((r) => locationKey(r.match) === DEBUG_PATH);
  if (!wanted) return undefined;
  const token = debugReturnToken(config, { ...host, routes: built.routes });
  if (token === undefined) {
    const reason = 'the debug response does not fit in one nginx string';
    ctx.dropped.push({ ...droppedSetting('DEBUG_ENDPOINT', 'true', reason, 'no debug location for this host'), host: host.hostname });
  }
  return token;
}

/** The server block of `host`, or undefined when nothing of it can be served (its containers are in ctx.dropped). */
export function buildServer(host: VirtualHost, ctx: ServerContext): ServerModel | undefined {
  const { config, plan } = ctx;
  const check = checkHost(host, ctx);
  if (!check.ok) {
    ctx.dropped.push(...dropRoutes(host, host.routes, check.setting, check.value, check.reason));
    return undefined;
  }
  const port = plan.portOf(host);
  const http2 = plan.http2Ports.has(port);
  const grpcLeftOut = http2 ? [] : host.routes.filter(isGrpc);
  if (grpcLeftOut.length > 0) ctx.dropped.push(...droppedGrpc(host, grpcLeftOut, port));
  const built = buildRoutes(host, host.routes.filter((r) => !grpcLeftOut.includes(r)), ctx);
  if (built.locations.length === 0) return undefined;
  const isDefault = config.defaultHost === host.hostname;
  const hasRootLocation = built.routes.some((r) => coversRoot(r.match));
  const vhostDir = config.nginx.vhostDir;
  return {
    hostname: host.hostname,
    serverName: check.serverName,
    port,
    listens: listenArgs(port, config, { http2, proxyProtocol: config.enableProxyProtocol, defaultServer: isDefault }),
    isDefault,
    serverTokens: host.serverTokens,
    snippet: ctx.firstInclude([join(vhostDir, vhostFileName(host)), join(vhostDir, 'default')]),
    upstreams: built.upstreams,
    locations: built.locations,
    hasRootLocation,
    defaultRoot: hasRootLocation ? undefined : ctx.defaultRoot,
    debug: debugLocation(host, built, ctx),
  };
}
