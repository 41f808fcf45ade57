/**
 * Writers for the nginx tokens that the plain escaper (escape.ts) must refuse because they legitimately contain `$`:
 * regular expressions (server_name, location), nginx variables the user asked for (DEFAULT_ROOT, a loadbalance hash
 * key, LOG_FORMAT), and literal text that must reach the client with its `$` intact (the debug endpoint's JSON, a
 * basic-auth realm). Each returns either a ready token (rendered raw by the templates) or the reason it cannot be
 * written; nothing here throws.
 */

/** A literal `$` inside an nginx string: `geo $berth_dollar { default "$"; }` (geo values are never variable-expanded). */
export const DOLLAR_VARIABLE = 'berth_dollar';

export type Token = { readonly ok: true; readonly token: string } | { readonly ok: false; readonly reason: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function describe(c: string): string {
  if (c === '\n') return 'a newline';
  return CONTROL.test(c) ? `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c);
}

/**
 * `"..."` with `\` and `"` backslash-escaped: nginx's parser turns `\\` into `\` and `\"` into `"` in every token,
 * so the value nginx sees is exactly `text`. `$` is kept as is (the caller vouches that it means what nginx reads).
 */
function quoted(text: string): string {
  // Single quotes when that needs fewer escapes (a log format or JSON is full of `"`): same value for nginx.
  const q = text.includes('"') && !text.includes("'") ? "'" : '"';
  return `${q}${text.replace(q === '"' ? /[\\"]/g : /[\\']/g, (c) => `\\${c}`)}${q}`;
}

/** A regular expression (server_name `~...`, location `~`/`~*`): `$` is an anchor there, never a variable. */
export function regexToken(regex: string): Token {
  if (regex.trim() === '') return { ok: false, reason: 'the regular expression is empty' };
  const bad = CONTROL.exec(regex);
  if (bad !== null) return { ok: false, reason: `it contains ${describe(bad[0])}` };
  return { ok: true, token: quoted(regex) };
}

/** Literal text in a string nginx expands variables in (`return 200 "..."`, `auth_basic "..."`): `$` -> `${berth_dollar}`. */
export function literalToken(text: string): Token {
  const bad = CONTROL.exec(text);
  if (bad !== null) return { ok: false, reason: `it contains ${describe(bad[0])}` };
  return { ok: true, token: quoted(text).replace(/\$/g, `\${${DOLLAR_VARIABLE}}`) };
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))?/g;

/**
 * Text in which `$name` / `${name}` are nginx variables, each of which `allowed(name)` accepts. A `$` not followed by a
 * name is refused (nginx: "invalid variable name"), so is an unknown variable (nginx: "unknown variable", which would
 * fail the whole config, not just this value).
 */
export function variableTextToken(text: string, allowed: (name: string) => boolean): Token {
  const bad = CONTROL.exec(text);
  if (bad !== null) return { ok: false, reason: `it contains ${describe(bad[0])}` };
  for (const m of text.matchAll(VARIABLE)) {
    const name = m[1] ?? m[2];
    if (name === undefined) return { ok: false, reason: `"$" at offset ${m.index} is not followed by a variable name` };
    if (!allowed(name)) return { ok: false, reason: `variable $${name} is not one berth can let nginx evaluate here` };
  }
  // Written bare when nothing in it needs quotes (as nginx-proxy writes it); `{` stays quoted.
  return { ok: true, token: /^[A-Za-z0-9_$.:/?&=%+,@!*~-]+$/.test(text) ? text : quoted(text) };
}

/** Variables DEFAULT_ROOT may use (issue #4: both data planes evaluate exactly these). */
export const DEFAULT_ROOT_VARIABLES: ReadonlySet<string> = new Set([
  'host',
  'request_uri',
  'uri',
  'args',
  'is_args',
  'scheme',
  'server_port',
  'remote_addr',
]);

/**
 * DEFAULT_ROOT as the arguments of nginx's `return`: `404`, `418 "some text"`, `301 "http://$host/web1$request_uri"`.
 * Config already checked the status and that a redirect has a URL; here the rest becomes one quoted token.
 */
export function returnArgsToken(value: string): Token {
  const m = /^(\d{3})(?:\s+(\S[\s\S]*))?$/.exec(value.trim());
  if (m === null) return { ok: false, reason: 'it is not "<status> [text or URL]"' };
  const status = m[1] as string;
  if (m[2] === undefined) return { ok: true, token: status };
  const rest = variableTextToken(m[2], (name) => DEFAULT_ROOT_VARIABLES.has(name));
  return rest.ok ? { ok: true, token: `${status} ${rest.token}` } : rest;
}

/**
 * nginx variables that exist in every nginx berth supports (core, realip, proxy_protocol), plus the per-name
 * families. Used for values the user writes with variables in them (a loadbalance hash key, LOG_FORMAT): anything
 * else would make `nginx -t` fail the whole config.
 */
const CORE_VARIABLES = new Set([
  'remote_addr', 'binary_remote_addr', 'remote_port', 'remote_user', 'realip_remote_addr', 'realip_remote_port',
  'proxy_protocol_addr', 'proxy_protocol_port', 'proxy_protocol_server_addr', 'proxy_protocol_server_port',
  'request', 'request_uri', 'uri', 'document_uri', 'document_root', 'request_method', 'request_id', 'request_length',
  'request_time', 'request_body', 'request_filename', 'args', 'query_string', 'is_args', 'host', 'hostname',
  'scheme', 'https', 'server_name', 'server_addr', 'server_port', 'server_protocol', 'status', 'body_bytes_sent',
  'bytes_sent', 'connection', 'connection_requests', 'connection_time', 'content_type', 'content_length',
  'msec', 'pid', 'pipe', 'time_local', 'time_iso8601', 'nginx_version', 'limit_rate',
  'upstream_addr', 'upstream_status', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time',
  'upstream_response_length', 'upstream_bytes_received', 'upstream_bytes_sent', 'upstream_cache_status',
  'ssl_protocol', 'ssl_cipher', 'ssl_server_name', 'ssl_session_reused', 'http2', 'gzip_ratio',
]);
const VARIABLE_FAMILIES = ['http_', 'sent_http_', 'sent_trailer_', 'cookie_', 'arg_', 'upstream_http_', 'upstream_cookie_', 'upstream_trailer_'];

export function isKnownVariable(name: string): boolean {
  const lower = name.toLowerCase();
  return CORE_VARIABLES.has(lower) || VARIABLE_FAMILIES.some((f) => lower.startsWith(f) && lower.length > f.length);
}

/** Variables available while an upstream is chosen (no response yet): a hash key must not name response variables. */
export function isRequestVariable(name: string): boolean {
  const lower = name.toLowerCase();
  if (/^(upstream_|sent_|status$|body_bytes_sent$|bytes_sent$|request_time$|gzip_ratio$)/.test(lower)) return false;
  return isKnownVariable(lower);
}
