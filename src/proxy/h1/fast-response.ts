import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamHeaders, DownstreamResponse } from '../downstream.ts';
import { isToken } from './chars.ts';
import { coalesce } from './coalesce.ts';
import type { SimpleRequestHead } from './request-head.ts';

/**
 * The fast lane's response (fast-lane.ts): what node:http's ServerResponse writes for the same calls, byte for byte
 * (fast-lane.test.ts compares them): the status line with node's reason phrase, the caller's header lines in order
 * (validated as node:http validates them), `Date`, `Connection: keep-alive` + `Keep-Alive: timeout=N` or
 * `Connection: close`, chunked framing when there is no Content-Length, no body for HEAD, 204, 304 and 1xx.
 */

/** The connection a response belongs to (FastConnection). */
export interface ResponseOwner {
  /** The port is closing: the response says `Connection: close`. */
  readonly closing: boolean;
  /** node:http's `Keep-Alive: timeout=N` value. */
  readonly keepAliveSeconds: number;
  /** The handler ended the response. */
  responseDone(res: FastResponse): void;
}

const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const CLOSE_TOKEN = /(?:^|\W)close(?:$|\W)/i;
const CHUNKED_LAST = /(?:^|\W)chunked\s*$/i;

let dateSecond = -1;
let dateValue = '';
/** The `Date` value, computed once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

class HeaderError extends TypeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The response side: the head is serialized by writeHead and held until the first body byte (or flushHeaders), then
 * written together with it (one writev), as node:http does. Emits `drain` (socket drained) and `close` (once: after
 * end, or when the connection closed first).
 */
export class FastResponse extends EventEmitter implements DownstreamResponse {
  statusCode = 200;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  readonly #conn: ResponseOwner;
  readonly #socket: Socket;
  readonly #hasBodyByMethod: boolean;
  readonly #keepAlive: boolean;
  #head: string | null = null;
  #headWritten = false;
  #hasBody = true;
  #chunked = false;
  #last = false;
  #closed = false;

  constructor(conn: ResponseOwner, socket: Socket, head: SimpleRequestHead) {
    super();
    this.#conn = conn;
    this.#socket = socket;
    this.#hasBodyByMethod = head.method !== 'HEAD';
    this.#keepAlive = !head.close;
  }

  get headersSent(): boolean {
    return this.#head !== null;
  }

  /** node:http's name for the serialized head (downstream.ts headLength). */
  get _header(): string | null {
    return this.#head;
  }

  /** node:http's name for "the head went to the socket" (downstream.ts headPending). */
  get _headerSent(): boolean {
    return this.#headWritten;
  }

  /** The connection closes after this response. */
  get last(): boolean {
    return this.#last;
  }

  writeHead(statusCode: number, headers: DownstreamHeaders): this {
    if (this.#head !== null) throw new HeaderError('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    const status = statusCode | 0;
    if (status < 100 || status > 999) throw new HeaderError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${statusCode}`);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let connection = false;
    let contentLength = false;
    let transferEncoding = false;
    let date = false;
    let keepAliveHeader = false;
    let last = false;
    let chunked = false;
    const line = (name: string, value: string | number): void => {
      const text = typeof value === 'string' ? value : String(value);
      if (!isToken(name)) throw new HeaderError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
      if (INVALID_VALUE.test(text)) throw new HeaderError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
      head += `${name}: ${text}\r\n`;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') date = true;
          break;
        case 10: {
          const lower = name.toLowerCase();
          if (lower === 'connection') {
            connection = true;
            if (CLOSE_TOKEN.test(text)) last = true;
          } else if (lower === 'keep-alive') keepAliveHeader = true;
          break;
        }
        case 14:
          if (name.toLowerCase() === 'content-length') contentLength = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            transferEncoding = true;
            if (CHUNKED_LAST.test(text)) chunked = true;
          }
          break;
        default:
      }
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) line(headers[i] as string, headers[i + 1] as string);
    } else {
      for (const name of Object.keys(headers)) line(name, headers[name] as string | number);
    }
    // Validated: from here on the head will be sent.
    this.statusCode = status;
    this.#last = last;
    this.#chunked = chunked;
    this.#hasBody = this.#hasBodyByMethod && status !== 204 && status !== 304 && (status < 100 || status > 199);
    if (!date) head += `Date: ${httpDate()}\r\n`;
    if (!connection) {
      if (!this.#keepAlive || this.#conn.closing) {
        this.#last = true;
        head += 'Connection: close\r\n';
      } else {
        head += 'Connection: keep-alive\r\n';
        if (!keepAliveHeader) head += `Keep-Alive: timeout=${this.#conn.keepAliveSeconds}\r\n`;
      }
    }
    if (!contentLength && !transferEncoding) {
      if (this.#hasBody) {
        head += 'Transfer-Encoding: chunked\r\n';
        this.#chunked = true;
      }
    }
    if (!this.#hasBody) this.#chunked = false;
    this.#head = `${head}\r\n`;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (this.#head === null) this.writeHead(this.statusCode, []);
    const socket = this.#socket;
    if (!this.#hasBody || chunk.length === 0) {
      this.flushHeaders();
      return !socket.writableNeedDrain;
    }
    socket.cork();
    if (!this.#headWritten) {
      socket.write(this.#head as string, 'latin1');
      this.#headWritten = true;
    }
    const ok = this.#writeBody(chunk);
    socket.uncork();
    return ok;
  }

  #writeBody(chunk: Buffer): boolean {
    const socket = this.#socket;
    if (!this.#chunked) return socket.write(chunk);
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    return socket.write('\r\n', 'latin1');
  }

  end(chunk?: Buffer): this {
    if (this.writableEnded) return this;
    if (this.#closed) {
      // The client went away first: nothing to write, and `close` was emitted already.
      this.writableEnded = true;
      return this;
    }
    if (this.#head === null) this.writeHead(this.statusCode, ['Content-Length', String(chunk?.length ?? 0)]);
    this.writableEnded = true;
    const socket = this.#socket;
    const body = this.#hasBody && chunk !== undefined && chunk.length > 0 ? chunk : undefined;
    if (!socket.destroyed) {
      // Corked to the end of this event-loop turn with the other answers of the batch (coalesce.ts): whatever is
      // written below goes out in one write.
      coalesce(socket);
      if (!this.#headWritten && !this.#chunked && (body === undefined || body.length <= COPY_LIMIT)) {
        // The common case, a whole small response: head and body in one buffer (no writev).
        this.#headWritten = true;
        if (body === undefined) socket.write(this.#head as string, 'latin1');
        else socket.write(withHead(this.#head as string, body));
      } else {
        if (!this.#headWritten) {
          socket.write(this.#head as string, 'latin1');
          this.#headWritten = true;
        }
        if (body !== undefined) this.#writeBody(body);
        if (this.#chunked) socket.write('0\r\n\r\n', 'latin1');
      }
    }
    this.writableFinished = true;
    this.#closed = true;
    this.#conn.responseDone(this);
    if (this.listenerCount('close') > 0) process.nextTick(emitClose, this);
    return this;
  }

  flushHeaders(): void {
    if (this.#head === null) this.writeHead(this.statusCode, []);
    if (this.#headWritten) return;
    this.#headWritten = true;
    this.#socket.write(this.#head as string, 'latin1');
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.#socket.destroy();
    }
    return this;
  }

  /** @internal The connection closed before the response ended. */
  clientGone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.destroyed = true;
    this.emit('close');
  }
}

/** Bodies up to this size are copied behind the head to be written at once; larger ones go in a writev. */
const COPY_LIMIT = 16 * 1024;

function withHead(head: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  return out;
}

function emitClose(res: FastResponse): void {
  res.emit('close');
}
