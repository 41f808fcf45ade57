import { randomFillSync } from 'node:crypto';
import type { AccessLogSettings } from '../config.ts';
import { basicAuthUser, httpHeader, parseTemplate } from './nginx-variables.ts';

/**
 * The access log of the Node data plane: one line per request on stdout in nginx's `log_format` language
 * (LOG_FORMAT, LOG_JSON, LOG_FORMAT_ESCAPE, DISABLE_ACCESS_LOGS), so a log pipeline built for nginx-proxy keeps
 * working. Lines bypass pino (they are nginx's format, not JSON log records) and are buffered: written together once
 * per event-loop turn, or when the buffer passes 16 KB.
 *
 * Variables are nginx's: a variable with no value ("not found" in nginx: no such header, no upstream, no Basic
 * user, no query) prints `-`, or nothing with escape=json; values are escaped as nginx does (`default`: `"`, `\`
 * and bytes outside 0x20-0x7e as `\xHH`; `json`: JSON string escapes; `none`: raw).
 */

/** One upstream attempt of a request, for `$upstream_addr`, `$upstream_status`, `$upstream_response_time`. */
export interface UpstreamAttemptLog {
  /** `address:port` (IPv6 bracketed), as upstreamKey. */
  readonly addr: string;
  /** Status the upstream answered, or the status berth answered for a failed attempt (502/504). */
  readonly status: number;
  readonly timeMs: number;
}

/** What a data plane records about one request (HTTP/1 or HTTP/2 stream) for its access log line. */
export interface AccessLogEntry {
  /** Date.now() when the request head was read. */
  readonly startMs: number;
  readonly method: string;
  /** `$request_uri`: the request target as received (origin form). */
  readonly requestUri: string;
  /** `$uri`: the normalised path (percent-decoded byte string); the raw path when it could not be normalised. */
  readonly uri: string;
  /** `$args`: the query string without `?`; undefined when the target has no `?`. */
  readonly args: string | undefined;
  /** `$server_protocol`: `HTTP/1.1`, `HTTP/1.0`, `HTTP/2.0`. */
  readonly protocol: string;
  /** `$host`. */
  readonly host: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** `$server_port`: the port the request was received on. */
  readonly serverPort: number;
  readonly scheme: string;
  /** Request header lines `[name, value, ...]` (`$http_*`, `$remote_user`). */
  readonly rawHeaders: readonly string[];
  /** Final status sent (499 when the client went away before a response). */
  readonly status: number;
  /** `$bytes_sent`: head and body bytes written to the client. */
  readonly bytesSent: number;
  /** `$body_bytes_sent`. */
  readonly bodyBytesSent: number;
  readonly upstreams: readonly UpstreamAttemptLog[];
}

export type LogEscape = AccessLogSettings['escape'];

type Value = string | undefined;
type Getter = (e: AccessLogEntry, now: number) => Value;

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);
const list = (e: AccessLogEntry, f: (u: UpstreamAttemptLog) => string): Value => (e.upstreams.length === 0 ? undefined : e.upstreams.map(f).join(', '));

const VARIABLES: Readonly<Record<string, Getter>> = {
  host: (e) => e.host,
  remote_addr: (e) => e.clientAddress,
  remote_port: (e) => String(e.clientPort),
  remote_user: (e) => basicAuthUser(e.rawHeaders),
  time_local: (_e, now) => timeLocal(now),
  time_iso8601: (_e, now) => timeIso8601(now),
  msec: (_e, now) => (now / 1000).toFixed(3),
  request: (e) => `${e.method} ${e.requestUri} ${e.protocol}`,
  request_method: (e) => e.method,
  request_uri: (e) => e.requestUri,
  uri: (e) => e.uri,
  document_uri: (e) => e.uri,
  args: (e) => e.args,
  query_string: (e) => e.args,
  is_args: (e) => (e.args === undefined || e.args === '' ? '' : '?'),
  server_protocol: (e) => e.protocol,
  server_port: (e) => String(e.serverPort),
  scheme: (e) => e.scheme,
  status: (e) => String(e.status).padStart(3, '0'),
  body_bytes_sent: (e) => String(e.bodyBytesSent),
  bytes_sent: (e) => String(e.bytesSent),
  request_time: (e, now) => seconds(now - e.startMs),
  request_id: () => requestId(),
  upstream_addr: (e) => list(e, (u) => u.addr),
  upstream_status: (e) => list(e, (u) => String(u.status)),
  upstream_response_time: (e) => list(e, (u) => seconds(u.timeMs)),
};

/** Names LOG_FORMAT may use besides `$http_<name>`. */
export const LOG_VARIABLES: readonly string[] = Object.keys(VARIABLES);

function getter(name: string): Getter | undefined {
  if (name.startsWith('http_') && name.length > 5) {
    const header = name.slice(5);
    return (e) => httpHeader(e.rawHeaders, header);
  }
  return VARIABLES[name];
}

/**
 * Checks a LOG_FORMAT once, at start: undefined when every variable is one berth evaluates, else a message naming
 * LOG_FORMAT and the variable (the lead turns it into ERR_CONFIG_INVALID).
 */
export function validateLogFormat(format: string): string | undefined {
  let parts;
  try {
    parts = parseTemplate(format);
  } catch (err) {
    return `LOG_FORMAT ${JSON.stringify(format)}: ${(err as Error).message}`;
  }
  for (const part of parts) {
    if (part.kind === 'var' && getter(part.name) === undefined) {
      return `LOG_FORMAT uses $${part.name}, which berth does not support; supported: $http_<header>, ${LOG_VARIABLES.map((v) => `$${v}`).join(', ')}`;
    }
  }
  return undefined;
}

const HEX = '0123456789ABCDEF';

/** nginx escape=default: `"`, `\`, and bytes outside 0x20-0x7e as `\xHH`. */
export function escapeDefault(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += `${value.slice(from, i)}\\x${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

/** nginx escape=json: `"` and `\` backslashed, control bytes as `\n` etc. or `\u00XX`; other bytes as they are. */
export function escapeJson(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    const short = c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : c === 10 ? '\\n' : c === 13 ? '\\r' : c === 9 ? '\\t' : c === 8 ? '\\b' : c === 12 ? '\\f' : undefined;
    out += value.slice(from, i) + (short ?? `\\u00${HEX[c >> 4]}${HEX[c & 15]}`.toLowerCase());
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

type Piece = string | ((e: AccessLogEntry, now: number) => string);

/** Compiles a (validated) format into a line builder. Literal text is converted to bytes (UTF-8) like nginx's config. */
export function compileLogFormat(format: string, escape: LogEscape): (e: AccessLogEntry, now: number) => string {
  const esc = escape === 'default' ? escapeDefault : escape === 'json' ? escapeJson : (v: string) => v;
  const missing = escape === 'json' ? '' : '-';
  const pieces: Piece[] = parseTemplate(format).map((part) => {
    if (part.kind === 'text') return Buffer.from(part.text, 'utf8').toString('latin1');
    const get = getter(part.name);
    if (get === undefined) throw new Error(validateLogFormat(format));
    return (e: AccessLogEntry, now: number) => {
      const v = get(e, now);
      return v === undefined ? missing : esc(v);
    };
  });
  return (e, now) => {
    let line = '';
    for (const p of pieces) line += typeof p === 'string' ? p : p(e, now);
    return line;
  };
}

export type LogSink = (chunk: Buffer) => void;

const FLUSH_BYTES = 16 * 1024;

/** The access log of one data plane process. `enabled` is false with DISABLE_ACCESS_LOGS: callers skip all work. */
export class AccessLog {
  readonly enabled: boolean;
  readonly #line: ((e: AccessLogEntry, now: number) => string) | undefined;
  readonly #sink: LogSink;
  #buffer = '';
  #scheduled = false;

  constructor(settings: AccessLogSettings, sink: LogSink = (chunk) => void process.stdout.write(chunk)) {
    this.enabled = settings.enabled;
    this.#line = settings.enabled ? compileLogFormat(settings.format, settings.escape) : undefined;
    this.#sink = sink;
  }

  write(entry: AccessLogEntry, now = Date.now()): void {
    if (this.#line === undefined) return;
    this.#buffer += `${this.#line(entry, now)}\n`;
    if (this.#buffer.length >= FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushLater);
    }
  }

  readonly #flushLater = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Writes what is buffered now (also called at stop). */
  flush(): void {
    if (this.#buffer === '') return;
    const chunk = Buffer.from(this.#buffer, 'latin1');
    this.#buffer = '';
    this.#sink(chunk);
  }
}

// --- time and ids, cached: formatting a date per request line is measurable on the hot path ---

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
let cachedSecond = -1;
let cachedLocal = '';
let cachedIso = '';

function fillTimeCache(now: number): void {
  const second = Math.floor(now / 1000);
  if (second === cachedSecond) return;
  cachedSecond = second;
  const d = new Date(second * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const oh = two(Math.floor(Math.abs(offset) / 60));
  const om = two(Math.abs(offset) % 60);
  const hms = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  cachedLocal = `${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${hms} ${sign}${oh}${om}`;
  cachedIso = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${hms}${sign}${oh}:${om}`;
}

/** nginx `$time_local`: `10/Oct/2000:13:55:36 +0000` (the process's time zone). */
export function timeLocal(now: number): string {
  fillTimeCache(now);
  return cachedLocal;
}

/** nginx `$time_iso8601`: `2000-10-10T13:55:36+00:00`. */
export function timeIso8601(now: number): string {
  fillTimeCache(now);
  return cachedIso;
}

const idPool = Buffer.alloc(4096);
let idOffset = idPool.length;

/** nginx `$request_id`: 16 random bytes in hex (drawn from a pooled random buffer). */
export function requestId(): string {
  if (idOffset + 16 > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += 16;
  return idPool.toString('hex', idOffset - 16, idOffset);
}
