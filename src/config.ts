import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDuration } from './duration.ts';
import { BerthError } from './errors.ts';

export { parseDuration };

/**
 * The only reader of process.env. Every setting is validated once at start; an invalid value raises
 * ERR_CONFIG_INVALID naming the variable, the value and what is accepted. The result is frozen.
 * Every setting here is documented in the README's "Settings" table.
 */

export type Mode = 'node' | 'nginx';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface NginxSettings {
  /** nginx binary used to validate and (unless external) run nginx. */
  readonly binary: string;
  /** Where berth keeps nginx's prefix, main config, rendered config and pid file. */
  readonly stateDir: string;
  /** Directory whose templates replace the built-in ones, file by file. */
  readonly templateDir: string | undefined;
  /** nginx-proxy's per-host snippet directory (`<host>`, `<host>_location`, `default`, `default_location`, `_location_override`). */
  readonly vhostDir: string;
  /** Extra http-level config: every `*.conf` in it is included. */
  readonly confDir: string;
  /** When this file exists it replaces the built-in proxy_set_header block. */
  readonly proxyConf: string;
  /**
   * Separate-containers mode: berth does not run nginx; it writes `outputFile` (a shared volume) and signals the
   * container labelled `containerLabel` through the Docker API.
   */
  readonly external: boolean;
  readonly outputFile: string | undefined;
  readonly containerLabel: string;
}

export interface Config {
  readonly dockerHost: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Address the Node data plane listens on; undefined = all addresses. */
  readonly listenAddress: string | undefined;
  readonly defaultHost: string | undefined;
  readonly trustDownstreamProxy: boolean;
  readonly mode: Mode;
  readonly logLevel: LogLevel;
  /** `json` lines, `pretty` for people, `auto` = pretty when stdout is a terminal. */
  readonly logFormat: 'json' | 'pretty' | 'auto';
  /** Debounce floor/ceiling for Docker events (docker-gen's -wait 100ms:500ms). */
  readonly debounceMinMs: number;
  readonly debounceMaxMs: number;
  /** Periodic full relist, because event streams can drop events. */
  readonly resyncIntervalMs: number;
  /** How long in-flight requests may take to finish after SIGTERM. */
  readonly shutdownTimeoutMs: number;
  /** Upstream connect timeout (nginx proxy_connect_timeout). */
  readonly upstreamConnectTimeoutMs: number;
  /** Max silence while waiting for / reading an upstream response (nginx proxy_read_timeout). */
  readonly upstreamTimeoutMs: number;
  /** Max time for a client to send request headers (nginx client_header_timeout). */
  readonly clientHeaderTimeoutMs: number;
  /** Idle keep-alive connections from clients are closed after this (nginx keepalive_timeout). */
  readonly clientKeepAliveTimeoutMs: number;
  /** `ready`: a backend gets traffic only once ready (HEALTHCHECK healthy, or its readiness probe passed). `start`: at start (nginx-proxy). */
  readonly admission: 'ready' | 'start';
  /** Stop sending new requests to a container at its stop signal (kill event), before it exits. */
  readonly drain: boolean;
  /** How long a request for a host with no ready backend waits for one before 503 + Retry-After. */
  readonly backendWaitMs: number;
  /** Upgraded (WebSocket) connections to a draining container are closed after this grace period. */
  readonly drainUpgradeTimeoutMs: number;
  /** How long a backend stays out of rotation after repeated connection failures (circuit breaker). */
  readonly circuitBreakMs: number;
  /** Opt-in: containers labelled berth.expose=true without VIRTUAL_HOST get `<name>.<hostIp>.nip.io`. */
  readonly nipIo: boolean;
  /** The host address used in nip.io names; undefined = detected at start. */
  readonly hostIp: string | undefined;
  /** Local admin endpoint for `berth routes|explain|healthcheck`: `unix:///path` or `tcp://127.0.0.1:port`. */
  readonly admin: string;
  /** Node data plane only: worker processes serving requests (node:cluster, round robin); 1 = in the main process. */
  readonly workers: number;
  /** Node data plane: plain bodiless HTTP/1.1 requests are served by berth's own server (h1/fast-lane.ts). */
  readonly fastLane: boolean;
  /**
   * DEFAULT_ROOT: what `/` answers on a host that has no `/` path: `<status> [text or URL]` as nginx's `return`
   * (`404`, `418`, `301 http://$host/web1$request_uri`); undefined = `none` (no such location).
   */
  readonly defaultRoot: string | undefined;
  /** ENABLE_IPV6: also listen on `[::]`. */
  readonly enableIpv6: boolean;
  /** PREFER_IPV6_NETWORK: reach dual-stack backends on their IPv6 address. */
  readonly preferIpv6Network: boolean;
  /** ENABLE_PROXY_PROTOCOL: every inbound connection starts with a PROXY protocol header (v1 or v2). */
  readonly enableProxyProtocol: boolean;
  /** DEBUG_ENDPOINT: serve `/nginx-proxy-debug` on every host (per host: the debug-endpoint label). */
  readonly debugEndpoint: boolean;
  /** SHA1_UPSTREAM_NAME: nginx data plane upstream names are sha1(host) (nginx data plane only). */
  readonly sha1UpstreamName: boolean;
  readonly accessLog: AccessLogSettings;
  /** RESOLVERS: nginx `resolver` (nginx data plane only); undefined = none needed (berth writes IP addresses). */
  readonly resolvers: string | undefined;
  /**
   * BERTH_HTPASSWD_DIR: nginx-proxy's Basic auth user files (`<host>`, `<host>_<sha1(path)>`), both data planes;
   * default `htpasswd` beside the vhost.d directory (`/etc/nginx/htpasswd`).
   */
  readonly htpasswdDir: string;
  /** DOCKER_CONTAINER_FILTERS: extra Engine API list filters (`network=mynet,label=x`), ANDed with status=running. */
  readonly containerFilters: Readonly<Record<string, readonly string[]>>;
  /** NO_COLOR (no-color.org: any non-empty value): pretty logs without colours. */
  readonly noColor: boolean;
  readonly nginx: NginxSettings;
}

/** Access log of both data planes (nginx-proxy's `vhost` log format, LOG_FORMAT, LOG_JSON, DISABLE_ACCESS_LOGS). */
export interface AccessLogSettings {
  /** False when DISABLE_ACCESS_LOGS is set to anything non-empty. */
  readonly enabled: boolean;
  /** nginx log_format text: LOG_FORMAT, else the JSON format with LOG_JSON, else nginx-proxy's `vhost` format. */
  readonly format: string;
  /** LOG_FORMAT_ESCAPE (`default`, `json`, `none`); `json` by default with LOG_JSON. */
  readonly escape: 'default' | 'json' | 'none';
}

/** nginx-proxy's default `vhost` access log format. */
export const DEFAULT_LOG_FORMAT =
  '$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$upstream_addr"';

/** nginx-proxy's LOG_JSON format. */
export const JSON_LOG_FORMAT =
  '{"time_local":"$time_iso8601","client_ip":"$remote_addr","remote_user":"$remote_user","request":"$request","status":"$status","body_bytes_sent":"$body_bytes_sent","request_time":"$request_time","upstream_response_time":"$upstream_response_time","upstream_addr":"$upstream_addr","http_referrer":"$http_referer","http_user_agent":"$http_user_agent","request_id":"$request_id"}';

type Env = Readonly<Record<string, string | undefined>>;

function invalid(name: string, value: string, accepted: string): BerthError {
  return new BerthError('ERR_CONFIG_INVALID', `${name}=${JSON.stringify(value)} is invalid: expected ${accepted}`);
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function port(env: Env, name: string, fallback: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw invalid(name, v, 'a port number from 1 to 65535');
  return Number(v);
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

function count(env: Env, name: string, fallback: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw invalid(name, v, `a whole number from 1 to ${max}`);
  return Number(v);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const l = v.toLowerCase();
  if (TRUE.includes(l)) return true;
  if (FALSE.includes(l)) return false;
  throw invalid(name, v, `one of ${[...TRUE, ...FALSE].join(', ')}`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const l = v.toLowerCase();
  const found = allowed.find((a) => a === l);
  if (found === undefined) throw invalid(name, v, `one of ${allowed.join(', ')}`);
  return found;
}

function duration(env: Env, name: string, fallbackMs: number, minMs = 0): number {
  const v = raw(env, name);
  if (v === undefined) return fallbackMs;
  const ms = parseDuration(v);
  if (ms === undefined || ms < minMs) {
    throw invalid(name, v, `a duration of at least ${minMs} ms, such as 250ms, 5s or 1m (a bare number is ms)`);
  }
  return ms;
}

function dockerHost(env: Env, exists: (path: string) => boolean): string {
  const v = raw(env, 'DOCKER_HOST');
  if (v === undefined) {
    return exists('/tmp/docker.sock') ? 'unix:///tmp/docker.sock' : 'unix:///var/run/docker.sock';
  }
  if (!/^(unix:\/\/\/.+|tcp:\/\/[^/\s]+(:\d+)?\/?|http:\/\/[^/\s]+(:\d+)?\/?)$/.test(v)) {
    throw invalid('DOCKER_HOST', v, 'unix:///path/to/docker.sock or tcp://host:port');
  }
  return v;
}

function ipv4(env: Env, name: string): string | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  const parts = v.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw invalid(name, v, 'an IPv4 address such as 192.168.1.20');
  return v;
}

export const DEFAULT_ADMIN = 'unix:///tmp/berth-admin.sock';

function admin(env: Env): string {
  const v = raw(env, 'BERTH_ADMIN') ?? DEFAULT_ADMIN;
  if (/^unix:\/\/\/\S+$/.test(v) || /^tcp:\/\/[^/\s]+:\d{1,5}$/.test(v)) return v;
  throw invalid('BERTH_ADMIN', v, 'unix:///path/to/admin.sock or tcp://127.0.0.1:PORT');
}

function defaultRoot(env: Env): string | undefined {
  const v = raw(env, 'DEFAULT_ROOT') ?? '404';
  if (v.toLowerCase() === 'none') return undefined;
  const m = /^(\d{3})(?:\s+(\S.*))?$/.exec(v);
  const status = Number(m?.[1] ?? 0);
  if (m === null || status < 200 || status > 599 || /[\n\r;{}]/.test(v)) {
    throw invalid('DEFAULT_ROOT', v, "an nginx return: a status (404), a status and text or URL (301 http://$host/web1$request_uri), or none");
  }
  if ([301, 302, 303, 307, 308].includes(status) && m[2] === undefined) {
    throw invalid('DEFAULT_ROOT', v, `a URL after the redirect status ${status}`);
  }
  return v;
}

function accessLog(env: Env): AccessLogSettings {
  const json = bool(env, 'LOG_JSON', false);
  const format = raw(env, 'LOG_FORMAT') ?? (json ? JSON_LOG_FORMAT : DEFAULT_LOG_FORMAT);
  if (/[\n\r]/.test(format)) throw invalid('LOG_FORMAT', format, 'a single-line nginx log_format');
  const escape = oneOf(env, 'LOG_FORMAT_ESCAPE', ['default', 'json', 'none'] as const, json ? 'json' : 'default');
  // nginx-proxy: "Any truthy value" disables; an empty value does not.
  return { enabled: raw(env, 'DISABLE_ACCESS_LOGS') === undefined, format, escape };
}

function containerFilters(env: Env): Record<string, string[]> {
  const v = raw(env, 'DOCKER_CONTAINER_FILTERS');
  const filters: Record<string, string[]> = {};
  if (v === undefined) return filters;
  for (const item of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z_-]+)=(.+)$/i.exec(item);
    if (m === null) throw invalid('DOCKER_CONTAINER_FILTERS', v, 'comma-separated key=value docker ps filters, such as network=mynet,label=env=prod');
    const key = (m[1] as string).toLowerCase();
    (filters[key] ??= []).push(m[2] as string);
  }
  return filters;
}

const HOSTNAME_RE = /^[a-z0-9_*]([a-z0-9_.*-]*[a-z0-9_*])?$/i;

export function loadConfig(env: Env = process.env, exists: (path: string) => boolean = existsSync): Config {
  const defaultHost = raw(env, 'DEFAULT_HOST');
  if (defaultHost !== undefined && !HOSTNAME_RE.test(defaultHost)) {
    throw invalid('DEFAULT_HOST', defaultHost, 'a host name such as app.127.0.0.1.nip.io');
  }
  const debounceMinMs = duration(env, 'BERTH_DEBOUNCE_MIN', 100, 0);
  const debounceMaxMs = duration(env, 'BERTH_DEBOUNCE_MAX', 500, 0);
  if (debounceMaxMs < debounceMinMs) {
    throw invalid('BERTH_DEBOUNCE_MAX', String(env['BERTH_DEBOUNCE_MAX']), `a duration not below BERTH_DEBOUNCE_MIN (${debounceMinMs} ms)`);
  }
  const mode = oneOf<Mode>(env, 'BERTH_MODE', ['node', 'nginx'], 'node');
  const external = bool(env, 'BERTH_NGINX_EXTERNAL', false);
  const outputFile = raw(env, 'BERTH_NGINX_OUTPUT');
  if (external && outputFile === undefined) {
    throw invalid('BERTH_NGINX_OUTPUT', '', 'the path of the shared file nginx includes, when BERTH_NGINX_EXTERNAL=true');
  }
  const config: Config = {
    dockerHost: dockerHost(env, exists),
    httpPort: port(env, 'HTTP_PORT', 80),
    httpsPort: port(env, 'HTTPS_PORT', 443),
    listenAddress: raw(env, 'BERTH_LISTEN_ADDRESS'),
    defaultHost: defaultHost?.toLowerCase(),
    trustDownstreamProxy: bool(env, 'TRUST_DOWNSTREAM_PROXY', true),
    mode,
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
    logFormat: oneOf(env, 'BERTH_LOG_FORMAT', ['json', 'pretty', 'auto'] as const, 'auto'),
    debounceMinMs,
    debounceMaxMs,
    resyncIntervalMs: duration(env, 'BERTH_RESYNC_INTERVAL', 30_000, 1000),
    shutdownTimeoutMs: duration(env, 'BERTH_SHUTDOWN_TIMEOUT', 10_000, 0),
    upstreamConnectTimeoutMs: duration(env, 'BERTH_UPSTREAM_CONNECT_TIMEOUT', 5_000, 1),
    upstreamTimeoutMs: duration(env, 'BERTH_UPSTREAM_TIMEOUT', 60_000, 1),
    clientHeaderTimeoutMs: duration(env, 'BERTH_CLIENT_HEADER_TIMEOUT', 60_000, 1),
    clientKeepAliveTimeoutMs: duration(env, 'BERTH_CLIENT_KEEPALIVE_TIMEOUT', 75_000, 1),
    admission: oneOf(env, 'BERTH_ADMISSION', ['ready', 'start'] as const, 'ready'),
    drain: bool(env, 'BERTH_DRAIN', true),
    backendWaitMs: duration(env, 'BERTH_BACKEND_WAIT', 10_000, 0),
    drainUpgradeTimeoutMs: duration(env, 'BERTH_DRAIN_UPGRADE_TIMEOUT', 10_000, 0),
    circuitBreakMs: duration(env, 'BERTH_CIRCUIT_BREAK', 5_000, 0),
    nipIo: bool(env, 'BERTH_NIP_IO', false),
    hostIp: ipv4(env, 'BERTH_HOST_IP'),
    admin: admin(env),
    workers: count(env, 'BERTH_WORKERS', 1, 64),
    fastLane: bool(env, 'BERTH_FAST_LANE', true),
    defaultRoot: defaultRoot(env),
    enableIpv6: bool(env, 'ENABLE_IPV6', false),
    preferIpv6Network: bool(env, 'PREFER_IPV6_NETWORK', false),
    enableProxyProtocol: bool(env, 'ENABLE_PROXY_PROTOCOL', false),
    debugEndpoint: bool(env, 'DEBUG_ENDPOINT', false),
    sha1UpstreamName: bool(env, 'SHA1_UPSTREAM_NAME', false),
    accessLog: Object.freeze(accessLog(env)),
    resolvers: raw(env, 'RESOLVERS'),
    htpasswdDir: raw(env, 'BERTH_HTPASSWD_DIR') ?? join(dirname(raw(env, 'BERTH_VHOST_DIR') ?? '/etc/nginx/vhost.d'), 'htpasswd'),
    containerFilters: Object.freeze(containerFilters(env)),
    noColor: (env['NO_COLOR'] ?? '') !== '',
    nginx: Object.freeze({
      binary: raw(env, 'BERTH_NGINX_BINARY') ?? 'nginx',
      stateDir: raw(env, 'BERTH_STATE_DIR') ?? '/var/lib/berth',
      templateDir: raw(env, 'BERTH_TEMPLATE_DIR'),
      vhostDir: raw(env, 'BERTH_VHOST_DIR') ?? '/etc/nginx/vhost.d',
      confDir: raw(env, 'BERTH_CONF_DIR') ?? '/etc/nginx/conf.d',
      proxyConf: raw(env, 'BERTH_PROXY_CONF') ?? '/etc/nginx/proxy.conf',
      external,
      outputFile,
      containerLabel: raw(env, 'NGINX_CONTAINER_LABEL') ?? 'com.github.nginx-proxy.nginx-proxy.nginx',
    }),
  };
  return Object.freeze(config);
}
