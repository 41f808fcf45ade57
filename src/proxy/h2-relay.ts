import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AttemptOutcome } from './delivery.ts';
import { downstreamStreamHeaders } from './h2-headers.ts';

/**
 * One client HTTP/2 stream piped to one backend HTTP/2 stream until both are closed: request body up, response
 * head, body and trailers down, with back pressure both ways (pipe). A client reset cancels the backend stream; a
 * backend reset (or its lost connection, or silence longer than the upstream timeout) resets the client stream,
 * never passed off as a complete response.
 */

export interface RelayObserver {
  /** The backend's response `:status`, once sent on to the client. */
  readonly onResponse?: (status: number) => void;
  /** Response body bytes from the backend (counted only when given: it costs a listener per chunk). */
  readonly onData?: (bytes: number) => void;
}

function ignore(): void {
  // stream errors end in 'close', which is handled
}

/** Calls `done` once, when the backend stream closed: delivered when the backend answered. */
export function relayStreams(client: ServerHttp2Stream, up: ClientHttp2Stream, timeoutMs: number, done: (outcome: AttemptOutcome) => void, observer: RelayObserver = {}): void {
  let responded = false;
  /** The backend's END_STREAM arrived (a lost connection also ends the readable side, but with an error code). */
  let cleanEnd = false;
  let timedOut = false;
  let trailers: OutgoingHttpHeaders = {};
  up.on('error', ignore);
  up.setTimeout(timeoutMs, () => {
    timedOut = true;
    up.close(constants.NGHTTP2_CANCEL);
  });
  up.on('response', (headers: IncomingHttpHeaders, flags: number) => {
    responded = true;
    const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    if (client.closed || client.destroyed || !respond(client, downstreamStreamHeaders(headers), endStream)) {
      up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    observer.onResponse?.(Number(headers[':status'] ?? 0));
    if (observer.onData !== undefined) up.on('data', (chunk: Buffer) => observer.onData?.(chunk.length));
    if (endStream) up.resume();
    else up.pipe(client);
  });
  up.on('trailers', (headers: IncomingHttpHeaders) => {
    trailers = downstreamStreamHeaders(headers);
  });
  up.once('end', () => (cleanEnd = up.rstCode === undefined || up.rstCode === constants.NGHTTP2_NO_ERROR));
  const resetCode = (): number => {
    const code = up.rstCode;
    // CANCEL is what node:http2 gives the streams of a lost connection, and it means "the client cancelled" to gRPC.
    return timedOut || code === undefined || code === constants.NGHTTP2_NO_ERROR || code === constants.NGHTTP2_CANCEL ? constants.NGHTTP2_INTERNAL_ERROR : code;
  };
  client.on('wantTrailers', () => {
    if (!cleanEnd) {
      client.close(resetCode());
      return;
    }
    try {
      client.sendTrailers(trailers);
    } catch {
      // trailers node:http2 refuses to send (it validates them): reset rather than let the throw end the process
      client.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  });
  if (!client.endAfterHeaders) client.pipe(up);
  // The client cancelled (RST_STREAM) or went away: cancel the backend stream.
  client.once('close', () => {
    if (!up.closed && !up.destroyed) up.close(constants.NGHTTP2_CANCEL);
  });
  up.once('close', () => {
    if (responded) {
      // Ended without END_STREAM after answering (reset, lost connection, timeout): the client stream is reset too.
      if (!cleanEnd && !client.closed && !client.destroyed) client.close(resetCode());
      done({ kind: 'done', delivered: true });
    } else if (client.closed || client.destroyed) {
      done({ kind: 'done', delivered: false }); // the client cancelled first
    } else {
      const error = timedOut
        ? Object.assign(new Error('backend stream timed out'), { code: 'ETIMEDOUT' })
        : Object.assign(new Error(`backend reset the stream (HTTP/2 error ${up.rstCode ?? 'none'})`), { code: 'ECONNRESET' });
      done({ kind: 'failed', error, retry: false, connection: false });
    }
  });
}

/** Sends the backend's response head to the client; false when node:http2 refused it (an invalid header). */
function respond(client: ServerHttp2Stream, headers: OutgoingHttpHeaders, endStream: boolean): boolean {
  try {
    client.respond(headers, endStream ? { endStream: true } : { waitForTrailers: true });
    return true;
  } catch {
    client.close(constants.NGHTTP2_INTERNAL_ERROR);
    return false;
  }
}
