/**
 * The URI as nginx sees it for location matching, and the URI nginx sends upstream. Pure functions on byte strings
 * (one char per byte, latin1: how node:http hands out `req.url`).
 *
 * nginx (ngx_http_parse_complex_uri) percent-decodes the path, merges `//` (merge_slashes on), resolves `.` and `..`
 * segments, and rejects a path that climbs above `/` or decodes to a NUL byte with 400. The query string is kept
 * raw. Locations are matched against that normalised `$uri`.
 *
 * Upstream URI (ngx_http_proxy_create_request): with `proxy_pass http://upstream;` (no VIRTUAL_DEST) the request
 * target goes upstream exactly as received; with a URI (`VIRTUAL_DEST`), the part of the normalised `$uri` the
 * location matched is replaced by that URI, the rest is escaped again only if the client had escaped something
 * (`%` in the path), and `?args` is appended when the query is not empty.
 */

export interface NormalizedUri {
  /** `$uri`: decoded, normalised path (byte string). */
  readonly path: string;
  /** `$args`: raw query string without `?`; undefined when the target had no `?`. */
  readonly args: string | undefined;
  /** The path contained a `%` escape (nginx's r->quoted_uri). */
  readonly quoted: boolean;
}

const NEEDS_WORK = /%|\/\/|\/\.|#/;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Percent-decodes a path; undefined on a malformed escape or a decoded NUL (nginx: 400). */
function percentDecode(path: string): string | undefined {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', from)) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return undefined;
    const byte = (hi << 4) | lo;
    if (byte === 0) return undefined;
    out += path.slice(from, i) + String.fromCharCode(byte);
    from = i + 3;
  }
  return out + path.slice(from);
}

/** Merges slashes and resolves dot segments; undefined when `..` climbs above the root. */
function resolveSegments(path: string): string | undefined {
  const parts = path.split('/');
  const out: string[] = [];
  let trailing = false;
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i] as string;
    const last = i === parts.length - 1;
    if (seg === '' || seg === '.') {
      trailing = last;
      continue;
    }
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      trailing = last;
      continue;
    }
    out.push(seg);
    trailing = false;
  }
  if (out.length === 0) return '/';
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}

/**
 * `uri`: the origin-form request target (`/path?query`). Undefined when nginx would answer 400 (a target that is not
 * a path, a malformed escape, a NUL, a path above the root).
 */
export function normalizeUri(uri: string): NormalizedUri | undefined {
  if (uri.charCodeAt(0) !== 47) return undefined; // '/'
  const q = uri.indexOf('?');
  let path = q === -1 ? uri : uri.slice(0, q);
  const query = q === -1 ? undefined : uri.slice(q + 1);
  // As nginx's $args: a `#` ends the query too (a client should never send one, but some do).
  const args = query === undefined || !query.includes('#') ? query : query.slice(0, query.indexOf('#'));
  if (!NEEDS_WORK.test(path)) return { path, args, quoted: false };
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash); // a fragment ends the path (and there is no query before it)
  const quoted = path.includes('%');
  const decoded = quoted ? percentDecode(path) : path;
  if (decoded === undefined) return undefined;
  const resolved = resolveSegments(decoded);
  if (resolved === undefined) return undefined;
  return { path: resolved, args: hash !== -1 && q > hash ? undefined : args, quoted };
}

const HEX = '0123456789ABCDEF';

/** nginx NGX_ESCAPE_URI: control bytes, space, `#`, `%`, `?`, DEL and bytes >= 0x80 as `%XX`. */
export function escapeUri(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x20 && c < 0x7f && c !== 0x23 && c !== 0x25 && c !== 0x3f) continue;
    out += `${value.slice(from, i)}%${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

/**
 * The target nginx sends upstream for `proxy_pass http://upstream<dest>;` in a location whose name is
 * `matchedLength` bytes long. `requestUri` is the target as received (used as is when `dest` is empty).
 */
export function proxyPassUri(dest: string, matchedLength: number, uri: NormalizedUri, requestUri: string): string {
  if (dest === '') return requestUri;
  const rest = uri.path.slice(matchedLength);
  const path = dest + (uri.quoted ? escapeUri(rest) : rest);
  return uri.args === undefined || uri.args === '' ? path : `${path}?${uri.args}`;
}

/** UTF-8 text (from labels and env) as the byte string requests are compared with. */
export function toByteString(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}
