import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { hostPortSuffix } from './request-target.ts';

/**
 * The headers sent upstream, computed exactly like nginx-proxy's proxy defaults (reference section 2, items 2 and 4)
 * and the hop-by-hop filtering of RFC 9110 section 7.6.1 in both directions. Pure: no sockets, no config object.
 */

export interface ForwardContext {
  /** `$host`: request host without port, lower-case. */
  readonly host: string;
  /** Port the request was received on (`$server_port`): kept in `Host` unless 80/443 (`$host$host_port`). */
  readonly localPort: number;
  /**
   * X-Forwarded-Port when trusted and the client sent none: the PROXY protocol header's destination port
   * (`$proxy_protocol_server_port`) when there was one. Default `localPort`.
   */
  readonly forwardedPort?: number;
  /** `$remote_addr`, IPv4-mapped prefix already stripped. */
  readonly clientAddress: string;
  /** Request target as received (`$request_uri`). */
  readonly requestUri: string;
  /** TRUST_DOWNSTREAM_PROXY. */
  readonly trustDownstreamProxy: boolean;
  /** The request asks for a protocol switch (Upgrade): keep `Upgrade` and send `Connection: upgrade`. */
  readonly upgrade: boolean;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers berth always sets itself (nginx `proxy_set_header`) or must not forward: `proxy` (httpoxy), and
 * `expect` (node:http already answered `100 Continue` to the client; undici refuses the header).
 */
const SET_BY_PROXY = new Set([
  'host',
  'proxy',
  'expect',
  'x-real-ip',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-ssl',
  'x-original-uri',
]);

/** Header names listed in `Connection` (they are hop-by-hop for this connection only). */
/** A Connection value that names only hop-by-hop fields anyway. */
const PLAIN_CONNECTION = /^\s*(?:keep-alive|close)\s*$/i;

function connectionTokens(value: string | string[] | number | undefined): Set<string> {
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const part of (Array.isArray(value) ? value.join(',') : String(value)).split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '') tokens.add(t);
  }
  return tokens;
}

function single(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/** What the client sent of the headers berth sets (each joined with `, `; '' when absent). */
export interface ClientForwarded {
  readonly forwardedFor: string;
  readonly forwardedProto: string;
  readonly forwardedHost: string;
  readonly forwardedPort: string;
}

/**
 * X-Real-IP, X-Forwarded-For/Host/Proto/Ssl/Port and X-Original-URI as `[name, value, ...]`, nginx-proxy's maps:
 * with TRUST_DOWNSTREAM_PROXY the client's X-Forwarded-* pass through and X-Forwarded-For is appended to; without,
 * they are overwritten. The one place this rule lives: HTTP/1 requests, upgrades and gRPC streams all use it.
 */
export function forwardedHeaderPairs(sent: ClientForwarded, ctx: Omit<ForwardContext, 'upgrade'>): string[] {
  const trust = ctx.trustDownstreamProxy;
  const proto = trust && sent.forwardedProto !== '' ? sent.forwardedProto : 'http';
  return [
    'x-real-ip', ctx.clientAddress,
    'x-forwarded-for', trust && sent.forwardedFor !== '' ? `${sent.forwardedFor}, ${ctx.clientAddress}` : ctx.clientAddress,
    'x-forwarded-host', trust && sent.forwardedHost !== '' ? sent.forwardedHost : ctx.host,
    'x-forwarded-proto', proto,
    'x-forwarded-ssl', proto === 'https' ? 'on' : 'off',
    'x-forwarded-port', trust && sent.forwardedPort !== '' ? sent.forwardedPort : String(trust ? (ctx.forwardedPort ?? ctx.localPort) : ctx.localPort),
    'x-original-uri', ctx.requestUri,
  ];
}

/** The client's values of the headers berth sets, from parsed (lower-case) headers. */
export function clientForwarded(incoming: Readonly<Record<string, string | string[] | undefined>>): ClientForwarded {
  return {
    forwardedFor: single(incoming['x-forwarded-for']),
    forwardedProto: single(incoming['x-forwarded-proto']),
    forwardedHost: single(incoming['x-forwarded-host']),
    forwardedPort: single(incoming['x-forwarded-port']),
  };
}

/** Headers for the upstream request. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Record<string, string | string[]> {
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || SET_BY_PROXY.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  out['host'] = ctx.host + hostPortSuffix(ctx.localPort);
  const pairs = forwardedHeaderPairs(clientForwarded(incoming), ctx);
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i] as string] = pairs[i + 1] as string;
  const upgrade = single(incoming.upgrade);
  if (ctx.upgrade && upgrade !== '') {
    out['upgrade'] = upgrade;
    out['connection'] = 'upgrade';
  }
  return out;
}

/** Response headers for the client: everything but hop-by-hop headers (the client connection has its own). */
export function downstreamResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Serialises a request head for a raw socket (the upgrade tunnel). Values were validated by node:http on input. */
export function serializeRequestHead(method: string, target: string, headers: Record<string, string | string[]>): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * The hot path's view of a request head, read in one pass over `req.rawHeaders` (building `req.headers`, an object
 * Node creates lazily, costs more than the whole scan). Duplicates are combined the way node:http combines them:
 * `host` and `content-length` keep the first line, the others are joined with `, `.
 */
export interface RequestHeadScan {
  host: string | undefined;
  /** Host header lines seen (more than one is a 400: hostHeaderProblem). */
  hostLines: number;
  connection: string;
  upgrade: string;
  forwardedFor: string;
  forwardedProto: string;
  forwardedHost: string;
  forwardedPort: string;
  contentLength: string | undefined;
  transferEncoding: boolean;
}

function joined(previous: string, value: string): string {
  return previous === '' ? value : `${previous}, ${value}`;
}

export function scanRequestHeaders(raw: readonly string[]): RequestHeadScan {
  const scan: RequestHeadScan = {
    host: undefined,
    hostLines: 0,
    connection: '',
    upgrade: '',
    forwardedFor: '',
    forwardedProto: '',
    forwardedHost: '',
    forwardedPort: '',
    contentLength: undefined,
    transferEncoding: false,
  };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          scan.hostLines++;
          if (scan.host === undefined) scan.host = value;
        }
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') scan.upgrade = joined(scan.upgrade, value);
        break;
      case 10:
        if (name.toLowerCase() === 'connection') scan.connection = joined(scan.connection, value);
        break;
      case 14:
        if (scan.contentLength === undefined && name.toLowerCase() === 'content-length') scan.contentLength = value;
        break;
      case 15:
      case 16:
      case 17: {
        const lower = name.toLowerCase();
        if (lower === 'x-forwarded-for') scan.forwardedFor = joined(scan.forwardedFor, value);
        else if (lower === 'x-forwarded-host') scan.forwardedHost = joined(scan.forwardedHost, value);
        else if (lower === 'x-forwarded-port') scan.forwardedPort = joined(scan.forwardedPort, value);
        else if (lower === 'x-forwarded-proto') scan.forwardedProto = joined(scan.forwardedProto, value);
        else if (lower === 'transfer-encoding') scan.transferEncoding = true;
        break;
      }
      default:
    }
  }
  return scan;
}

/**
 * What nginx refuses with a 400 before choosing a server, and RFC 9112 section 3.2 requires refusing: more than one
 * Host line (which one would route the request?) or an empty one. undefined when the Host header is fine or absent
 * (absent: node:http refuses an HTTP/1.1 request without one; an HTTP/1.0 request goes to the default server).
 */
export function hostHeaderProblem(scan: RequestHeadScan): string | undefined {
  if (scan.hostLines > 1) return `${scan.hostLines} Host header lines`;
  if (scan.host !== undefined && scan.host.trim() === '') return 'an empty Host header';
  return undefined;
}

/** The scan's answer to "does this request carry a body" (RFC 9112 section 6.3). */
export function scanHasBody(scan: RequestHeadScan): boolean {
  return scan.transferEncoding || (scan.contentLength !== undefined && scan.contentLength !== '0');
}

/**
 * `upstreamRequestHeaders` for the hot path: the same headers (for a request without `upgrade`), as a flat
 * `[name, value, ...]` list built from `rawHeaders`; header lines are forwarded one by one, as nginx does.
 */
export function upstreamRequestHeaderList(raw: readonly string[], scan: RequestHeadScan, ctx: Omit<ForwardContext, 'upgrade'>): string[] {
  const named = scan.connection === '' ? undefined : connectionTokens(scan.connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(lower) || SET_BY_PROXY.has(lower) || named?.has(lower) === true) continue;
    out.push(lower, raw[i + 1] as string);
  }
  out.push('host', ctx.host + hostPortSuffix(ctx.localPort));
  const pairs = forwardedHeaderPairs(scan, ctx);
  for (let i = 0; i < pairs.length; i++) out.push(pairs[i] as string);
  return out;
}

/**
 * `downstreamResponseHeaders` for the hot path: the upstream's response head as parsed (`[name, value, ...]`, bytes
 * as latin1 strings) to a flat list for `res.writeHead`, hop-by-hop headers removed; repeated lines kept.
 */
export function downstreamResponseHeaderList(raw: readonly string[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    // Hop-by-hop names are 2, 7, 10, 16 or 17 characters long: only those are lower-cased and looked up.
    const n = name.length;
    if (n === 2 || n === 7 || n === 10 || n === 16 || n === 17) {
      const lower = name.toLowerCase();
      if (lower === 'connection') {
        connection = connection === undefined ? value : `${connection}, ${value}`;
        continue;
      }
      if (HOP_BY_HOP.has(lower)) continue;
    }
    out.push(name, value);
  }
  // `Connection: keep-alive` / `close` (nearly every response) name nothing beyond the hop-by-hop fields.
  if (connection === undefined || PLAIN_CONNECTION.test(connection)) return out;
  const named = connectionTokens(connection);
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
  return kept;
}
