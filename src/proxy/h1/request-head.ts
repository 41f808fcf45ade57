/**
 * The fast lane's request head scanner (fast-lane.ts): decides, for the bytes at the start of a client connection's
 * buffer, whether they hold one complete, plain HTTP/1.1 request without a body that the lane serves itself, and
 * parses it in one pass over the bytes.
 *
 * It is deliberately narrow. Anything it does not accept in full is `not-simple` and goes, from that request on, to
 * node:http (its llhttp parser answers 400/431/... and handles bodies, `Expect`, upgrades, HTTP/1.0, absolute-form
 * targets). Request smuggling needs two parsers that disagree on where a request ends; here a request this scanner
 * accepts ends at its blank line, and it only accepts heads whose end no parser can read differently:
 * - the request line is exactly `METHOD SP /target SP HTTP/1.1 CRLF`, with one of node:http's methods (upper
 *   case, CONNECT aside), the target visible ASCII only;
 * - every header line is `token ":" OWS value OWS CRLF`: no bare CR or LF anywhere, no obs-fold, no whitespace before
 *   the colon, no control characters in values (RFC 9112 sections 2.2, 3, 5);
 * - no `Content-Length` and no `Transfer-Encoding` line at all (any body framing goes to node:http), no `Upgrade`,
 *   no `Expect`, exactly one `Host` line.
 */

import { METHODS } from 'node:http';
import { HEAD_END, TCHAR } from './chars.ts';

/** A request the fast lane serves. */
export interface SimpleRequestHead {
  readonly method: string;
  /** Origin-form target as sent (`/path?query`), a latin1 string like node:http's `req.url`. */
  readonly target: string;
  /** `[name, value, ...]` as sent (values without surrounding whitespace), like node:http's `req.rawHeaders`. */
  readonly rawHeaders: string[];
  /** The client asked for `Connection: close`. */
  readonly close: boolean;
  /** Bytes of the head, blank line included: where the next request starts. */
  readonly length: number;
}

/** `incomplete`: no blank line yet (within the size limit); `not-simple`: node:http takes it from here. */
export type RequestHeadScan = SimpleRequestHead | 'incomplete' | 'not-simple';

/** Header lines beyond this many go to node:http (it enforces its own maxHeadersCount). */
const MAX_HEADER_LINES = 100;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const SLASH = 47;

/** Field value octets (RFC 9110 section 5.5): HTAB, SP, VCHAR, obs-text. */
const VALUE = new Uint8Array(256);
VALUE[HTAB] = 1;
for (let c = 32; c <= 126; c++) VALUE[c] = 1;
for (let c = 128; c <= 255; c++) VALUE[c] = 1;

/** The methods node:http (llhttp) accepts, CONNECT aside (tunnels are node:http's: it answers them 400 here). */
const SIMPLE_METHODS = new Set(METHODS.filter((m) => m !== 'CONNECT' && m !== 'PRI'));

const HTTP11 = Buffer.from(' HTTP/1.1\r\n', 'latin1');

/** `close` as a token of a Connection value (case-insensitive), as node:http reads it. */
const CLOSE_TOKEN = /(?:^|[\s,])close(?:$|[\s,])/i;

/** Lower-cases ASCII letters of a header name (names are tokens: nothing else to fold). */
function lowerEquals(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower;
}

/**
 * Scans `buf` from its start. `maxBytes` bounds the head (node:http's maxHeaderSize): a longer one is not-simple,
 * so that node:http answers it 431 as it would have.
 */
export function scanRequestHead(buf: Buffer, maxBytes: number): RequestHeadScan {
  const end = buf.indexOf(HEAD_END);
  if (end === -1) return buf.length >= maxBytes ? 'not-simple' : 'incomplete';
  const length = end + 4;
  if (length > maxBytes) return 'not-simple';

  // Request line: method SP target SP HTTP/1.1 CRLF.
  let i = 0;
  while (i < end && TCHAR[buf[i] as number] === 1) i++;
  if (i === 0 || i > 32 || buf[i] !== SP) return 'not-simple';
  const method = buf.toString('latin1', 0, i);
  // Only the methods node:http knows, in its spelling: `get`, `FOO` or `connect` are node:http's to refuse (400).
  if (!SIMPLE_METHODS.has(method)) return 'not-simple';
  const targetStart = ++i;
  if (buf[i] !== SLASH) return 'not-simple';
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c <= SP || c >= 127) break;
  }
  const targetEnd = i;
  if (targetEnd + HTTP11.length > length || buf.compare(HTTP11, 0, HTTP11.length, targetEnd, targetEnd + HTTP11.length) !== 0) return 'not-simple';
  const target = buf.toString('latin1', targetStart, targetEnd);
  i = targetEnd + HTTP11.length;

  const rawHeaders: string[] = [];
  let hosts = 0;
  let close = false;
  // Header lines up to the blank line (`end` is the index of its CR; the last line's CRLF ends at end + 2).
  while (i < end + 2) {
    const nameStart = i;
    while (TCHAR[buf[i] as number] === 1) i++;
    if (i === nameStart || buf[i] !== COLON) return 'not-simple';
    const name = buf.toString('latin1', nameStart, i);
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    let valueEnd = i;
    for (;;) {
      const c = buf[i] as number;
      if (c === CR) break;
      if (VALUE[c] !== 1) return 'not-simple'; // LF, NUL and other controls
      i++;
      if (c !== SP && c !== HTAB) valueEnd = i;
    }
    if (buf[i + 1] !== LF) return 'not-simple';
    i += 2;
    const value = buf.toString('latin1', valueStart, valueEnd);
    switch (name.length) {
      case 4:
        if (lowerEquals(name, 'host')) hosts++;
        break;
      case 6:
        if (lowerEquals(name, 'expect')) return 'not-simple';
        break;
      case 7:
        if (lowerEquals(name, 'upgrade')) return 'not-simple';
        break;
      case 10:
        if (lowerEquals(name, 'connection') && CLOSE_TOKEN.test(value)) close = true;
        break;
      case 14:
        if (lowerEquals(name, 'content-length')) return 'not-simple';
        break;
      case 17:
        if (lowerEquals(name, 'transfer-encoding')) return 'not-simple';
        break;
      default:
    }
    rawHeaders.push(name, value);
    if (rawHeaders.length > 2 * MAX_HEADER_LINES) return 'not-simple';
  }
  if (hosts !== 1) return 'not-simple';
  return { method, target, rawHeaders, close, length };
}
