import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { hostPortSuffix } from './request-target.ts';

/**
 * The headers sent upstream, computed exactly like nginx-proxy's proxy defaults (reference section 2, items 2 and 4)
 * and the hop-by-hop filtering of RFC 9110 section 7.6.1 in both directions. Pure: no sockets, no config object.
 */

export interface ForwardContext {
  /** `$host`: request host without port, lower-case. */
  readonly host: string;
  /** Port the request was received on (`$server_port`). */
  readonly localPort: number;
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

/** Headers for the upstream request. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Record<string, string | string[]> {
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || SET_BY_PROXY.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  const trust = ctx.trustDownstreamProxy;
  const inFor = single(incoming['x-forwarded-for']);
  const inProto = single(incoming['x-forwarded-proto']);
  const inHost = single(incoming['x-forwarded-host']);
  const inPort = single(incoming['x-forwarded-port']);
  const proto = trust && inProto !== '' ? inProto : 'http';
  out['host'] = ctx.host + hostPortSuffix(ctx.localPort);
  out['x-real-ip'] = ctx.clientAddress;
  out['x-forwarded-for'] = trust && inFor !== '' ? `${inFor}, ${ctx.clientAddress}` : ctx.clientAddress;
  out['x-forwarded-host'] = trust && inHost !== '' ? inHost : ctx.host;
  out['x-forwarded-proto'] = proto;
  out['x-forwarded-ssl'] = proto === 'https' ? 'on' : 'off';
  out['x-forwarded-port'] = trust && inPort !== '' ? inPort : String(ctx.localPort);
  out['x-original-uri'] = ctx.requestUri;
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
