import type { Socket } from 'node:net';

/**
 * What the HTTP/1 request path (request-handler.ts, forward.ts, responses.ts) uses of a client request and its
 * response. Two servers provide them: node:http (IncomingMessage / ServerResponse, for every request with a body,
 * upgrades, HTTP/1.0, ...) and berth's fast lane (h1/fast-lane.ts, for plain bodiless HTTP/1.1 requests). The
 * names are node:http's, so that its objects fit as they are.
 */
export interface DownstreamRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  readonly socket: Socket;
  /** The request, body included, was read completely. */
  readonly complete: boolean;
  readonly destroyed: boolean;
}

export type DownstreamHeaders = string[] | Record<string, string | number>;

export interface DownstreamResponse {
  /** True once writeHead was called (the head may still be held back until the first body byte). */
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly statusCode: number;
  /** Throws when a header name or value cannot be sent (node:http's ERR_INVALID_CHAR / ERR_INVALID_HTTP_TOKEN). */
  writeHead(statusCode: number, headers: DownstreamHeaders): unknown;
  /** False when the client is slow: wait for `drain`. */
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  destroy(): unknown;
  /** Sends a head that writeHead stored, without waiting for a body byte. */
  flushHeaders(): void;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

/** node:http's internal fields that the fast lane's response mirrors (stable since Node 0.x). */
interface HeadState {
  /** The serialized head, once writeHead was called. */
  readonly _header?: string | null;
  /** False while the head is stored but not yet written to the socket. */
  readonly _headerSent?: boolean;
}

/** The head was stored by writeHead and is still held back (node:http sends it with the first body bytes). */
export function headPending(res: DownstreamResponse): boolean {
  return !res.writableEnded && !res.destroyed && (res as DownstreamResponse & HeadState)._headerSent === false;
}

/** Bytes of the response head (the access log's body_bytes_sent is bytes sent minus these). */
export function headLength(res: DownstreamResponse): number {
  return (res as DownstreamResponse & HeadState)._header?.length ?? 0;
}
