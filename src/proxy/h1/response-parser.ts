import { HEAD_END, TCHAR } from './chars.ts';
import { UpstreamError } from './errors.ts';

/**
 * An incremental, strict parser of HTTP/1.x responses read from an upstream connection (RFC 9112): status line,
 * header fields, and message framing (sections 6.1-6.3: no body for HEAD/1xx/204/304, chunked, Content-Length, or
 * until the connection closes). Pure: bytes in, events out; the connection (connection.ts) owns the socket.
 *
 * Strict where a mistake would let one response bleed into the next on a reused connection (response desync):
 * conflicting Content-Length values, a Transfer-Encoding that is not chunked-last, bytes after a complete response,
 * malformed chunk sizes, obs-fold and control characters are errors (UPSTREAM_BAD_RESPONSE, answered 502), never
 * guessed around. A response framed by the connection's close, or with both Transfer-Encoding and Content-Length,
 * is relayed but the connection is not reused.
 *
 * Why berth parses responses itself instead of using undici: see forward.ts and the README's Performance section
 * (the measurement is in bench/throughput).
 */

export interface ResponseEvents {
  /** A final (status >= 200) response head: `headers` is `[name, value, ...]`, names as received, values trimmed. */
  onHead(status: number, headers: string[]): void;
  /** A piece of the (de-chunked) body; `chunk` may be a view of the socket's buffer. */
  onBody(chunk: Buffer): void;
  /**
   * The response is complete (see `reusable`). `last`: the final piece of a Content-Length body, given here instead
   * of to onBody so that the consumer can write it and end in one call (one write for head, body and end).
   */
  onComplete(last?: Buffer): void;
}

/** Largest response head (status line + header fields) accepted; larger is UPSTREAM_HEADER_TOO_LARGE. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Largest chunk-size line (with extensions) and total trailer section accepted. */
const MAX_LINE_BYTES = 8 * 1024;

const IDLE = 0;
const HEAD = 1;
const LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;
const DEAD = 8;

const BARE_LF_HEAD_END = Buffer.from('\n\n', 'latin1');
const DIGITS = /^[0-9]{1,15}$/;
/** `size[ext]\r`: chunk size in hex (at most 13 digits: below 2^53), optional extensions, CR (the LF was cut). */
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,13})[\t ]*(?:;[^\r]*)?\r$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*"?([0-9]{1,9})/i;

function tooLarge(): UpstreamError {
  return new UpstreamError('UPSTREAM_HEADER_TOO_LARGE', `upstream response head exceeds ${MAX_HEAD_BYTES} bytes`);
}

/** The last `n` bytes of the concatenation of `pieces`. */
function tailOf(pieces: readonly Buffer[], n: number): Buffer {
  const parts: Buffer[] = [];
  let need = n;
  for (let i = pieces.length - 1; i >= 0 && need > 0; i--) {
    const piece = pieces[i] as Buffer;
    const take = Math.min(need, piece.length);
    parts.unshift(piece.subarray(piece.length - take));
    need -= take;
  }
  return Buffer.concat(parts);
}

function bad(message: string): UpstreamError {
  return new UpstreamError('UPSTREAM_BAD_RESPONSE', `invalid response from upstream: ${message}`);
}

function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** End of the line starting at `from` (its CR), or the text's end; a CR must be followed by LF. */
function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  if (cr === -1) return text.length;
  if (text.charCodeAt(cr + 1) !== 10) throw bad('bare CR in the head');
  return cr;
}

/** `HTTP/1.x NNN[ reason]` -> NNN (100-999), or -1. The reason phrase may be empty or absent; no control characters. */
function statusCode(line: string): number {
  if (line.length < 12 || !line.startsWith('HTTP/1.')) return -1;
  const minor = line.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) return -1;
  const a = line.charCodeAt(9) - 48;
  const b = line.charCodeAt(10) - 48;
  const c = line.charCodeAt(11) - 48;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  if (line.length > 12) {
    if (line.charCodeAt(12) !== 32) return -1;
    for (let i = 13; i < line.length; i++) {
      const ch = line.charCodeAt(i);
      if ((ch < 32 && ch !== 9) || ch === 127) return -1;
    }
  }
  return a * 100 + b * 10 + c;
}

/** A Content-Length field value: digits, or a list of identical digit strings (RFC 9110 section 8.6); -1 if invalid. */
function contentLength(value: string): number {
  if (DIGITS.test(value)) return Number(value);
  let length = -1;
  for (const part of value.split(',')) {
    const v = trimOws(part);
    if (!DIGITS.test(v)) return -1;
    const n = Number(v);
    if (length !== -1 && n !== length) return -1;
    length = n;
  }
  return length;
}

export class ResponseParser {
  readonly #events: ResponseEvents;
  #state = IDLE;
  #headRequest = false;
  /** Bytes of a head split across reads, and their total length. */
  #pieces: Buffer[] = [];
  #carried = 0;
  /** A chunk-size or trailer line split across reads. */
  #line = '';
  #trailerBytes = 0;
  #remaining = 0;
  #reusable = false;
  #keepAliveTimeoutMs: number | undefined;
  /** The head just parsed ends the response (HEAD, 204, 304, Content-Length: 0). */
  #bodyless = false;
  /** A 1xx head was received for the current request. */
  #informational = false;
  /** pause() was called: the rest of the current read waits in #rest until resume(). */
  #paused = false;
  #rest: Buffer | undefined;

  constructor(events: ResponseEvents) {
    this.#events = events;
  }

  /** Expect the response to a new request; `headRequest`: it was a HEAD (no body whatever the head says). */
  start(headRequest: boolean): void {
    this.#state = HEAD;
    this.#headRequest = headRequest;
    this.#pieces = [];
    this.#carried = 0;
    this.#line = '';
    this.#trailerBytes = 0;
    this.#remaining = 0;
    this.#reusable = false;
    this.#keepAliveTimeoutMs = undefined;
    this.#bodyless = false;
    this.#informational = false;
    this.#paused = false;
    this.#rest = undefined;
  }

  /** Stop delivering body bytes after the current onBody, until resume(). */
  pause(): void {
    this.#paused = true;
  }

  /** Continue with the bytes left over when pause() was called. */
  resume(): void {
    this.#paused = false;
    const rest = this.#rest;
    this.#rest = undefined;
    if (rest !== undefined) this.execute(rest);
  }

  /** No response is expected or being read (before the first start, after onComplete, after stop). */
  get idle(): boolean {
    return this.#state === IDLE || this.#state === DEAD;
  }

  /** No byte of the current response has been received yet (a 1xx counts as received). */
  get awaitingHead(): boolean {
    return this.#state === HEAD && this.#carried === 0 && !this.#informational;
  }

  /** After onComplete: the connection may carry another request (keep-alive, clean framing, nothing extra sent). */
  get reusable(): boolean {
    return this.#reusable;
  }

  /** The upstream's `Keep-Alive: timeout=N` in ms, when it sent one with the last response. */
  get keepAliveTimeoutMs(): number | undefined {
    return this.#keepAliveTimeoutMs;
  }

  /** Ignore everything from now on (the connection is being destroyed). */
  stop(): void {
    this.#state = DEAD;
    this.#rest = undefined;
    this.#pieces = [];
    this.#carried = 0;
  }

  /**
   * The upstream closed its side. Completes a response framed by the close; throws UPSTREAM_CLOSED when a response
   * was expected or only partly read. Nothing happens when idle.
   */
  end(): void {
    if (this.#state === UNTIL_CLOSE) {
      this.#complete(false);
      return;
    }
    if (this.idle) return;
    const where = this.awaitingHead ? 'before sending a response' : 'in the middle of its response';
    this.#state = DEAD;
    throw new UpstreamError('UPSTREAM_CLOSED', `upstream closed the connection ${where}`);
  }

  /** Parse bytes read from the connection. Throws an UpstreamError on invalid input (then the parser is dead). */
  execute(chunk: Buffer): void {
    try {
      this.#execute(chunk);
    } catch (err) {
      this.#state = DEAD;
      throw err;
    }
  }

  #execute(chunk: Buffer): void {
    const length = chunk.length;
    let offset = 0;
    while (offset < length) {
      if (this.#paused) {
        this.#rest = chunk.subarray(offset);
        return;
      }
      switch (this.#state) {
        case IDLE:
          throw bad('data received while no request was in flight');
        case DEAD:
          return;
        case HEAD:
          offset = this.#head(chunk, offset);
          if (this.#bodyless) {
            this.#bodyless = false;
            if (this.#state === HEAD) this.#complete(offset < length);
            return;
          }
          break;
        case LENGTH:
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, length - offset);
          const part = offset === 0 && n === length ? chunk : chunk.subarray(offset, offset + n);
          offset += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            if (this.#state === LENGTH) {
              this.#complete(offset < length, part);
              return;
            }
            this.#state = CHUNK_DATA_END;
          }
          this.#events.onBody(part);
          break;
        }
        case UNTIL_CLOSE:
          this.#events.onBody(offset === 0 ? chunk : chunk.subarray(offset));
          return;
        default: {
          // CHUNK_SIZE, CHUNK_DATA_END, TRAILERS: line by line.
          const lf = chunk.indexOf(10, offset);
          const end = lf < 0 ? length : lf;
          this.#line += chunk.toString('latin1', offset, end);
          offset = lf < 0 ? length : lf + 1;
          if (this.#line.length > MAX_LINE_BYTES) throw bad('chunk-size or trailer line too long');
          if (lf < 0) break;
          const line = this.#line;
          this.#line = '';
          if (this.#line_(line)) {
            this.#complete(offset < length);
            return;
          }
        }
      }
    }
  }

  /** One complete line of the chunked framing (without its LF). True when the message is complete. */
  #line_(line: string): boolean {
    if (this.#state === CHUNK_DATA_END) {
      if (line !== '\r') throw bad('chunk data not followed by CRLF');
      this.#state = CHUNK_SIZE;
      return false;
    }
    if (this.#state === CHUNK_SIZE) {
      const m = CHUNK_SIZE_LINE.exec(line);
      if (m === null) throw bad('invalid chunk size line');
      const size = parseInt(m[1] as string, 16);
      if (size === 0) this.#state = TRAILERS;
      else {
        this.#remaining = size;
        this.#state = CHUNK_DATA;
      }
      return false;
    }
    // TRAILERS: read and dropped (nginx does not pass upstream trailers either), until the empty line.
    if (line === '\r') return true;
    this.#trailerBytes += line.length + 1;
    if (this.#trailerBytes > MAX_LINE_BYTES) throw bad('trailer section too large');
    if (!line.endsWith('\r') || line.indexOf(':') <= 0) throw bad('invalid trailer field');
    return false;
  }

  /** Looks for the end of the head from `offset`; returns the offset after what it consumed. */
  #head(chunk: Buffer, offset: number): number {
    if (this.#carried === 0) {
      const end = chunk.indexOf(HEAD_END, offset);
      if (end >= 0) {
        if (end - offset > MAX_HEAD_BYTES) throw tooLarge();
        this.#parseHead(chunk.toString('latin1', offset, end));
        return end + 4;
      }
      const rest = offset === 0 ? chunk : chunk.subarray(offset);
      this.#keep(rest, rest, rest.length);
      return chunk.length;
    }
    // A head split across reads: only the last 3 bytes kept and the new ones are searched (no quadratic copying).
    const rest = offset === 0 ? chunk : chunk.subarray(offset);
    const tail = tailOf(this.#pieces, 3);
    const probe = Buffer.concat([tail, rest]);
    const at = probe.indexOf(HEAD_END);
    if (at < 0) {
      this.#keep(rest, probe, this.#carried + rest.length);
      return chunk.length;
    }
    const headLength = this.#carried - tail.length + at;
    if (headLength > MAX_HEAD_BYTES) throw tooLarge();
    const data = Buffer.concat([...this.#pieces, rest]);
    this.#pieces = [];
    this.#carried = 0;
    this.#parseHead(data.toString('latin1', 0, headLength));
    return offset + (at + 4 - tail.length);
  }

  /** Buffer part of a head whose end has not arrived (`probe`: the bytes just searched). */
  #keep(rest: Buffer, probe: Buffer, total: number): void {
    // Up to 3 bytes kept may be the start of the CRLFCRLF: the exact limit is applied once it is found.
    if (total > MAX_HEAD_BYTES + 3) throw tooLarge();
    // A head with bare LF line endings would otherwise only fail at the limit or the timeout.
    if (probe.indexOf(BARE_LF_HEAD_END) >= 0) throw bad('bare LF line endings in the head');
    this.#pieces.push(rest);
    this.#carried = total;
  }

  #parseHead(text: string): void {
    // One pass over the characters (a regex per line measured ~2.8 us a response, this ~0.5 us).
    const statusEnd = lineEnd(text, 0);
    const statusLine = text.slice(0, statusEnd);
    const status = statusCode(statusLine);
    if (status < 0) throw bad(`invalid status line ${JSON.stringify(statusLine.slice(0, 64))}`);
    const http10 = statusLine.charCodeAt(7) === 48;
    const headers: string[] = [];
    let length = -1;
    let lengthSeen = false;
    let transferEncoding: string | undefined;
    let close = false;
    let keepAlive = false;
    const end = text.length;
    let pos = statusEnd + 2;
    while (pos < end) {
      let colon = -1;
      let i = pos;
      for (; i < end; i++) {
        const c = text.charCodeAt(i);
        if (colon === -1) {
          if (c === 58) colon = i;
          else if (c > 127 || TCHAR[c] !== 1) {
            if (c === 13) break;
            throw bad(i === pos && (c === 32 || c === 9) ? 'obsolete line folding' : 'invalid character in a header name');
          }
        } else if ((c < 32 && c !== 9) || c === 127) {
          if (c === 13) break;
          throw bad('control character in a header value');
        }
      }
      if (i < end && text.charCodeAt(i + 1) !== 10) throw bad('bare CR in the head');
      if (colon <= pos) throw bad('header line without a name');
      const name = text.slice(pos, colon);
      const value = trimOws(text.slice(colon + 1, i));
      pos = i + 2;
      headers.push(name, value);
      const nameLength = name.length;
      if (nameLength !== 10 && nameLength !== 14 && nameLength !== 17) continue;
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        const v = contentLength(value);
        if (v < 0 || (lengthSeen && v !== length)) throw bad('invalid or conflicting Content-Length');
        length = v;
        lengthSeen = true;
      } else if (lower === 'transfer-encoding') {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      } else if (lower === 'connection') {
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') close = true;
          else if (t === 'keep-alive') keepAlive = true;
        }
      } else if (lower === 'keep-alive') {
        const t = KEEP_ALIVE_TIMEOUT.exec(value);
        if (t !== null) this.#keepAliveTimeoutMs = Number(t[1]) * 1000;
      }
    }
    if (status < 200) {
      // 100 Continue, 102, 103 Early Hints: informational, dropped; the final response follows on the same read.
      if (status === 101) throw bad('unexpected 101 Switching Protocols to a request without Upgrade');
      this.#keepAliveTimeoutMs = undefined;
      this.#informational = true;
      return;
    }
    let reusable = http10 ? keepAlive && !close : !close;
    let mode: number;
    if (this.#headRequest || status === 204 || status === 304) mode = IDLE;
    else if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(',').map((c) => trimOws(c).toLowerCase());
      const chunkedAt = codings.indexOf('chunked');
      if (chunkedAt !== -1 && chunkedAt !== codings.length - 1) throw bad('chunked is not the last transfer coding');
      if (chunkedAt === codings.length - 1) mode = CHUNK_SIZE;
      else {
        mode = UNTIL_CLOSE;
        reusable = false;
      }
      // Transfer-Encoding overrides Content-Length (RFC 9112 section 6.3): the length goes, so does the connection.
      if (lengthSeen) {
        reusable = false;
        for (let i = headers.length - 2; i >= 0; i -= 2) {
          if ((headers[i] as string).toLowerCase() === 'content-length') headers.splice(i, 2);
        }
      }
      if (http10) reusable = false;
    } else if (lengthSeen) mode = length === 0 ? IDLE : LENGTH;
    else {
      mode = UNTIL_CLOSE;
      reusable = false;
    }
    this.#reusable = reusable;
    this.#remaining = mode === LENGTH ? length : 0;
    // The state is set before onHead so that a handler that stops the parser (abort) is not overridden; a bodyless
    // response stays in HEAD until #execute completes it (it knows whether bytes followed the head).
    this.#state = mode === IDLE ? HEAD : mode;
    this.#bodyless = mode === IDLE;
    this.#events.onHead(status, headers);
  }

  #complete(extraBytes: boolean, last?: Buffer): void {
    if (extraBytes) this.#reusable = false;
    this.#state = IDLE;
    this.#events.onComplete(last);
  }
}
