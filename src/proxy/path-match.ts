import type { Route } from '../routing-table.ts';
import { escapeUri, toByteString } from './location-uri.ts';

/**
 * nginx location selection (ngx_http_core_find_location) over one virtual host's routes, compiled once per table:
 *
 * 1. an exact location (`= /x`) equal to the path wins;
 * 2. else the longest prefix location is found; if the path equals a proxied location's name minus its trailing
 *    slash (and no location is named exactly like the path), nginx answers 301 to the name with the slash
 *    (`auto_redirect`: `/api` -> `/api/`), before any regex is tried;
 * 3. if the longest prefix is `^~`, it wins;
 * 4. else the first regex location (`~`, `~*`) that matches, in route order;
 * 5. else the longest prefix, if any.
 *
 * Besides the routes, a host may have nginx-proxy's generated locations: `location / { return DEFAULT_ROOT; }` when
 * no route is the prefix `/`, and `location /nginx-proxy-debug` with DEBUG_ENDPOINT. They take part in the same
 * selection (a regex route still beats the `/` of DEFAULT_ROOT, as in nginx).
 */

export type LocationTarget =
  | { readonly kind: 'route'; readonly route: Route }
  | { readonly kind: 'default-root' }
  | { readonly kind: 'debug' };

interface CompiledLocation {
  readonly target: LocationTarget;
  /** Location name as a byte string (prefix and exact forms). */
  readonly value: string;
  readonly noRegex: boolean;
}

export interface CompiledLocations {
  readonly exact: ReadonlyMap<string, CompiledLocation>;
  /** Longest first. */
  readonly prefixes: readonly CompiledLocation[];
  readonly regexes: readonly { readonly re: RegExp; readonly location: CompiledLocation }[];
  /** name-without-trailing-slash -> escaped name, for proxied locations whose name ends with `/`. */
  readonly redirects: ReadonlyMap<string, string>;
}

export type LocationMatch =
  | { readonly kind: 'location'; readonly target: LocationTarget; readonly matchedLength: number }
  /** nginx's auto_redirect: 301 to `location` (the escaped location name), `?args` to be appended. */
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'none' };

export const DEBUG_PATH = '/nginx-proxy-debug';

/**
 * A PCRE location or server_name regex as a JS RegExp: `(?P<name>` becomes `(?<name>`, a leading `(?i)` the `i`
 * flag. Undefined when JS cannot compile it (discovery reports invalid patterns; the data plane must not throw).
 */
export function compilePcre(source: string, caseInsensitive: boolean): RegExp | undefined {
  let text = source.replace(/\(\?P</g, '(?<');
  let flags = caseInsensitive ? 'i' : '';
  if (text.startsWith('(?i)')) {
    text = text.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(toByteString(pcreDollar(text)), flags);
  } catch {
    return undefined;
  }
}

/**
 * PCRE's `$` (no multiline, no DOLLAR_ENDONLY) also matches before a final newline; JS's only at the very end. So
 * `~ ^/admin$` must match `/admin%0A` as nginx does (else such a request would fall to another location, e.g. past a
 * NETWORK_ACCESS=internal one). Unescaped `$` outside character classes becomes `(?=\n?$)`.
 */
export function pcreDollar(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      out += source.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
      if (source[i + 1] === '^') out += source[++i];
      if (source[i + 1] === ']') out += source[++i]; // a leading ] is literal in a class
    } else {
      out += ch === '$' ? '(?=\\n?$)' : ch;
    }
  }
  return out;
}

export interface ExtraLocations {
  /** Add `location / { return DEFAULT_ROOT; }` when no route is the prefix `/`. */
  readonly defaultRoot: boolean;
  /** Add `location /nginx-proxy-debug`. */
  readonly debug: boolean;
}

export function compileLocations(routes: readonly Route[], extras: ExtraLocations): CompiledLocations {
  const exact = new Map<string, CompiledLocation>();
  const prefixes: CompiledLocation[] = [];
  const regexes: { re: RegExp; location: CompiledLocation }[] = [];
  const redirects = new Map<string, string>();
  const prefixNames = new Set<string>();
  for (const route of routes) {
    const m = route.match;
    const target: LocationTarget = { kind: 'route', route };
    if (m.kind === 'regex') {
      const re = compilePcre(m.value, m.caseInsensitive);
      if (re !== undefined) regexes.push({ re, location: { target, value: m.value, noRegex: false } });
      continue;
    }
    const value = toByteString(m.value);
    const location: CompiledLocation = { target, value, noRegex: m.kind === 'prefix-no-regex' };
    if (m.kind === 'exact') {
      if (!exact.has(value)) exact.set(value, location);
    } else if (!prefixNames.has(value)) {
      prefixNames.add(value);
      prefixes.push(location);
    }
    // Every route is proxied (proxy_pass/grpc_pass), so a name ending in `/` gets nginx's auto_redirect.
    if (value.length > 1 && value.endsWith('/') && !redirects.has(value.slice(0, -1))) redirects.set(value.slice(0, -1), escapeUri(value));
  }
  if (extras.defaultRoot && !prefixNames.has('/')) {
    prefixNames.add('/');
    prefixes.push({ target: { kind: 'default-root' }, value: '/', noRegex: false });
  }
  if (extras.debug && !prefixNames.has(DEBUG_PATH)) prefixes.push({ target: { kind: 'debug' }, value: DEBUG_PATH, noRegex: false });
  prefixes.sort((a, b) => b.value.length - a.value.length);
  return { exact, prefixes, regexes, redirects };
}

/** `path`: the normalised `$uri` (location-uri.ts). */
export function matchLocation(c: CompiledLocations, path: string): LocationMatch {
  const exact = c.exact.get(path);
  if (exact !== undefined) return { kind: 'location', target: exact.target, matchedLength: exact.value.length };
  let prefix: CompiledLocation | undefined;
  for (const p of c.prefixes) {
    if (path.startsWith(p.value)) {
      prefix = p;
      break;
    }
  }
  if (prefix === undefined || prefix.value.length !== path.length) {
    const redirect = c.redirects.get(path);
    if (redirect !== undefined) return { kind: 'redirect', location: redirect };
  }
  if (prefix !== undefined && prefix.noRegex) return { kind: 'location', target: prefix.target, matchedLength: prefix.value.length };
  for (const r of c.regexes) {
    if (r.re.test(path)) return { kind: 'location', target: r.location.target, matchedLength: 0 };
  }
  return prefix === undefined ? { kind: 'none' } : { kind: 'location', target: prefix.target, matchedLength: prefix.value.length };
}
