import { join } from 'node:path';
import { authFileCandidates } from '../basic-auth-files.ts';
import type { PathMatch, Route, UpstreamProto, VirtualHost } from '../routing-table.ts';
import { type DroppedContainer, dropRoutes } from './dropped.ts';
import { nginxEscape, unsafePath } from './escape.ts';
import { literalToken, regexToken, type Token } from './nginx-tokens.ts';
import { sha1, type UpstreamModel } from './upstream-model.ts';

/** One `location` per route: the path match form, the proto's pass directive, network access, auth, snippets. */

export interface LocationModel {
  /** Route.path as configured (`/api/`, `~ ^/(a|b)/`): the key of the route. */
  readonly path: string;
  /** What follows `location`: `/api/`, `^~ /static/`, `= /health`, `~ "^/(a|b)/"`; already escaped (render raw). */
  readonly location: string;
  readonly upstream: string;
  readonly proto: UpstreamProto;
  /** Argument of the pass directive (`http://up/dest`, `grpc://up`, `uwsgi://up`, `up` for fastcgi); escaper-safe. */
  readonly pass: string;
  /** False when the keepalive label says `disabled`: `Connection: close` upstream, no fastcgi_keep_conn. */
  readonly keepalive: boolean;
  /** fastcgi: VIRTUAL_ROOT (escaper-safe); undefined for other protos. */
  readonly root: string | undefined;
  /** NETWORK_ACCESS=internal: only private and loopback clients (others 403). */
  readonly internal: boolean;
  /** The user's network_internal.conf (include path, glob-escaped) when it exists; else the list is written inline. */
  readonly internalInclude: string | undefined;
  /** Basic auth from the htpasswd directory: realm (quoted token, render raw) and user file (escaper-safe). */
  readonly auth: { readonly realm: string; readonly userFile: string } | undefined;
  /** Include path (glob-escaped) of the first existing `_location` snippet, if any. */
  readonly snippet: string | undefined;
  /**
   * Include path (glob-escaped) of nginx-proxy's `<VHOST>_<sha1(path)>_location_override` (for `/` also
   * `<VHOST>_location_override`; the hashed name wins): it replaces the whole location block, so it must contain
   * its own `location ... { }`. The route's upstream block is still written (the override may proxy_pass to it).
   */
  readonly override: string | undefined;
  /**
   * The route has backends but none is ready (starting, draining, unhealthy): the location answers 503 with
   * Retry-After instead of proxying. nginx cannot hold a request until a backend is ready; berth re-renders as soon
   * as one is. (A route with no backend at all keeps nginx-proxy's 502.)
   */
  readonly unavailable: boolean;
}

export interface LocationContext {
  readonly dropped: DroppedContainer[];
  readonly vhostDir: string;
  readonly htpasswdDir: string;
  /** Include path of the user's network_internal.conf, if it exists. */
  readonly internalInclude: string | undefined;
  readonly exists: (path: string) => boolean;
  /** The first existing file of `paths` as an include path (berth's validated copy), glob-escaped. */
  readonly firstInclude: (paths: readonly string[]) => string | undefined;
}

/** The arguments of `location` for a path match, or why they cannot be written. */
export function locationToken(match: PathMatch): Token {
  if (match.kind === 'regex') {
    const re = regexToken(match.value);
    return re.ok ? { ok: true, token: `${match.caseInsensitive ? '~*' : '~'} ${re.token}` } : re;
  }
  const reason = unsafePath(match.value);
  if (reason !== undefined) return { ok: false, reason };
  const modifier = match.kind === 'exact' ? '= ' : match.kind === 'prefix-no-regex' ? '^~ ' : '';
  return { ok: true, token: `${modifier}${match.value}` };
}

/** Whether the escaper can write `value` (it refuses `$` and control characters). */
function escapable(value: string): boolean {
  try {
    nginxEscape(value);
    return value !== '';
  } catch {
    return false;
  }
}

/** The pass directive's argument: nginx-proxy's `<proto>://<upstream><dest>`, VIRTUAL_DEST only for http(s). */
function passTarget(proto: UpstreamProto, upstream: string, dest: string): string {
  switch (proto) {
    case 'http':
    case 'https':
      return `${proto}://${upstream}${dest}`;
    case 'fastcgi':
      return upstream;
    default:
      return `${proto}://${upstream}`;
  }
}

function basicAuth(host: VirtualHost, route: Route, ctx: LocationContext): LocationModel['auth'] {
  const found = authFileCandidates(host, route).find((c) => ctx.exists(join(ctx.htpasswdDir, c.name)));
  if (found === undefined) return undefined;
  const realm = literalToken(found.realm);
  return realm.ok ? { realm: realm.token, userFile: join(ctx.htpasswdDir, found.name) } : undefined;
}

/**
 * The location of `route` (already given its upstream), or undefined when a value cannot be written (the route's
 * containers are reported in ctx.dropped). `vhostName` is the host's file name (sha1 for a regex host).
 */
export function buildLocation(host: VirtualHost, route: Route, upstream: UpstreamModel, vhostName: string, ctx: LocationContext): LocationModel | undefined {
  const location = locationToken(route.match);
  if (!location.ok) {
    ctx.dropped.push(...dropRoutes(host, [route], 'VIRTUAL_PATH', route.path, location.reason));
    return undefined;
  }
  const usesDest = (route.proto === 'http' || route.proto === 'https') && route.dest !== '';
  const destReason = usesDest ? unsafePath(route.dest) : undefined;
  if (destReason !== undefined) {
    ctx.dropped.push(...dropRoutes(host, [route], 'VIRTUAL_DEST', route.dest, destReason));
    return undefined;
  }
  const root = route.proto === 'fastcgi' ? host.root : undefined;
  if (root !== undefined && !escapable(root)) {
    ctx.dropped.push(...dropRoutes(host, [route], 'VIRTUAL_ROOT', root, 'it contains "$" or a control character'));
    return undefined;
  }
  const pathFile = `${vhostName}_${sha1(route.path)}`;
  const candidates = [`${pathFile}_location`, `${vhostName}_location`, 'default_location'];
  const overrides = [`${pathFile}_location_override`, ...(route.path === '/' ? [`${vhostName}_location_override`] : [])];
  return {
    path: route.path,
    location: location.token,
    upstream: upstream.name,
    proto: route.proto,
    pass: passTarget(route.proto, upstream.name, usesDest ? route.dest : ''),
    keepalive: route.keepalive !== 'disabled',
    root,
    internal: route.networkAccess === 'internal',
    internalInclude: route.networkAccess === 'internal' ? ctx.internalInclude : undefined,
    auth: basicAuth(host, route, ctx),
    snippet: ctx.firstInclude(candidates.map((f) => join(ctx.vhostDir, f))),
    override: ctx.firstInclude(overrides.map((f) => join(ctx.vhostDir, f))),
    unavailable: upstream.servers.length === 0 && upstream.notReady.length > 0,
  };
}

/** Whether a location serves `/` as a prefix (then no DEFAULT_ROOT location: nginx refuses a duplicate `location /`). */
export function coversRoot(match: PathMatch): boolean {
  return (match.kind === 'prefix' || match.kind === 'prefix-no-regex') && match.value === '/';
}

/** Prefix (with or without `^~`) and exact locations must be unique in a server: nginx refuses duplicates. */
export function locationKey(match: PathMatch): string | undefined {
  if (match.kind === 'regex') return undefined;
  return `${match.kind === 'exact' ? '=' : ''}${match.value}`;
}
