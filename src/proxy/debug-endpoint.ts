import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { JSON_LOG_FORMAT } from '../config.ts';
import type { Route, VirtualHost } from '../routing-table.ts';
import { sha1 } from '../sha1.ts';

/**
 * nginx-proxy's `/nginx-proxy-debug` document (DEBUG_ENDPOINT, the debug-endpoint label): global settings, request
 * variables and the virtual host with its paths, as JSON. Pure, so that both data planes render the same document:
 * the Node plane fills `request` with the request's values, the nginx plane with nginx variables (`$host`, ...).
 *
 * Types follow nginx-proxy: some global values are the raw env strings (`"true"`), others booleans; vhost flags are
 * booleans. A regex hostname is replaced by a warning text; when the document is longer than 4000 characters,
 * `vhost.paths` is dropped and a top-level `warning` says so. berth has no TLS yet: certificate fields say "no
 * certificate", and the effective HTTPS method is nginx-proxy's downgrade for a host without one (`noredirect`).
 */

export type DebugSettings = Pick<
  Config,
  | 'defaultHost'
  | 'defaultRoot'
  | 'accessLog'
  | 'debugEndpoint'
  | 'enableIpv6'
  | 'enableProxyProtocol'
  | 'httpPort'
  | 'httpsPort'
  | 'resolvers'
  | 'sha1UpstreamName'
  | 'trustDownstreamProxy'
>;

/** Request variables of the document (nginx: `$host`, `$https`, `$http2`, `$http3`, `$ssl_cipher`, `$ssl_protocol`). */
export interface DebugRequest {
  readonly host: string;
  readonly https: string;
  readonly http2: string;
  readonly http3: string;
  readonly ssl_cipher: string;
  readonly ssl_protocol: string;
}

export const DEBUG_REGEX_HOSTNAME = 'Hostname is a regexp and unsafe to include in the debug response.';
export const DEBUG_PATHS_STRIPPED = 'Virtual paths configuration for this hostname is too large and has been stripped from response.';
const MAX_LENGTH = 4000;


/** nginx-proxy's upstream name: the hostname (sha1 of it for regexes or SHA1_UPSTREAM_NAME), `-sha1(path)` for paths other than `/`. */
export function upstreamName(vhost: VirtualHost, path: string, sha1Names: boolean): string {
  const base = sha1Names || vhost.kind === 'regex' ? sha1(vhost.hostname) : vhost.hostname;
  return path === '/' ? base : `${base}-${sha1(path)}`;
}

function pathEntry(vhost: VirtualHost, route: Route, sha1Names: boolean): Record<string, unknown> {
  const ports: Record<string, { Name: string }[]> = {};
  for (const u of route.upstreams) (ports[String(u.port)] ??= []).push({ Name: u.containerName });
  return {
    dest: route.dest,
    keepalive: String(route.keepalive),
    network_tag: route.networkAccess,
    ports,
    proto: route.proto,
    upstream: upstreamName(vhost, route.path, sha1Names),
  };
}

function globals(s: DebugSettings, version: string): Record<string, unknown> {
  return {
    acme_http_challenge: 'true',
    default_cert_ok: false,
    default_host: s.defaultHost ?? '',
    default_root_response: s.defaultRoot ?? 'none',
    enable_access_log: s.accessLog.enabled,
    enable_debug_endpoint: String(s.debugEndpoint),
    enable_http2: 'true',
    enable_http3: 'false',
    enable_http_on_missing_cert: 'true',
    enable_ipv6: s.enableIpv6,
    enable_json_logs: s.accessLog.format === JSON_LOG_FORMAT,
    enable_proxy_protocol: s.enableProxyProtocol,
    external_http_port: String(s.httpPort),
    external_https_port: String(s.httpsPort),
    hsts: 'max-age=31536000',
    https_method: 'redirect',
    log_format: s.accessLog.format,
    log_format_escape: s.accessLog.escape,
    nginx_proxy_version: version,
    resolvers: s.resolvers ?? '',
    sha1_upstream_name: s.sha1UpstreamName,
    ssl_policy: 'Mozilla-Intermediate',
    trust_downstream_proxy: s.trustDownstreamProxy,
  };
}

/** The debug document as JSON text. `version`: what `nginx_proxy_version` reports (berth's version). */
export function debugDocument(settings: DebugSettings, vhost: VirtualHost, request: DebugRequest, version: string): string {
  const isRegex = vhost.kind === 'regex';
  const paths: Record<string, unknown> = {};
  for (const route of vhost.routes) paths[route.path] = pathEntry(vhost, route, settings.sha1UpstreamName);
  const vhostDoc: Record<string, unknown> = {
    cert: '',
    cert_ok: false,
    default: settings.defaultHost !== undefined && settings.defaultHost === vhost.hostname,
    enable_debug_endpoint: vhost.debugEndpoint ?? settings.debugEndpoint,
    hostname: isRegex ? DEBUG_REGEX_HOSTNAME : vhost.hostname,
    hsts: 'max-age=31536000',
    http2_enabled: true,
    http3_enabled: false,
    https_method: 'noredirect',
    is_regexp: isRegex,
    paths,
    server_tokens: vhost.serverTokens ?? '',
    ssl_policy: 'Mozilla-Intermediate',
    upstream_name: upstreamName(vhost, '/', settings.sha1UpstreamName),
    vhost_root: vhost.root,
  };
  const doc: Record<string, unknown> = { global: globals(settings, version), request: { ...request }, vhost: vhostDoc };
  const text = JSON.stringify(doc);
  if (text.length <= MAX_LENGTH) return text;
  delete vhostDoc['paths'];
  return JSON.stringify({ ...doc, warning: DEBUG_PATHS_STRIPPED });
}

/** berth's version (package.json sits two levels up from src/proxy, three from dist/src/proxy). */
export function berthVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      return `berth-${(JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version}`;
    } catch {
      // not at this level
    }
  }
  return 'berth';
}
