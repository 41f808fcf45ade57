import type { Duplex } from 'node:stream';

/**
 * Write coalescing per event-loop turn for the two writes of a proxied exchange: the request head to the upstream
 * (h1/connection.ts) and the finished response to the client (the fast lane's FastResponse.end).
 *
 * `coalesce(socket)` corks the socket and queues it; every queued socket is uncorked once the poll phase has run all
 * the I/O callbacks of this turn (setImmediate), or earlier when MAX_BATCH sockets are waiting (below). Each socket
 * still gets one write syscall per turn; what changes is when the peers learn about them. Written at once, each write
 * wakes a peer that went back to sleep since the last one (on this machine a wake-up across cores is the largest
 * single kernel cost of a proxied request: ~15% of berth's CPU in sock_def_readable); written at the end of the
 * batch, the backend and the clients are woken once for many requests and berth's next epoll_wait returns more
 * events. Measured in bench/throughput's conditions (50 connections, proxy on one core), interleaved rounds:
 * +15-18% requests/s for the Node plane (18.4k -> 21.7k, 18.0k -> 21.1k). Under light load a batch is one
 * request and the delay is the rest of that turn (microseconds).
 *
 * Nothing is lost or reordered: a corked socket keeps every later write behind the queued one, `end()` uncorks
 * fully (so a socket ended or closed at shutdown still sends what it holds), and uncorking a destroyed socket is a
 * no-op. `writableLength` counts what is held, so backpressure checks see it.
 */

/**
 * Queued sockets are flushed as soon as this many wait, not only at the end of the turn: the backend starts on the
 * first requests of a large batch while berth reads the rest, and the first writes of a very large batch (thousands
 * of connections readable at once) do not wait for all of it. Measured against 64, interleaved rounds at 50
 * connections: 17.2k vs 14.8k and 20.6k vs 18.7k req/s, p99 2.24x vs 2.48x and 2.28x vs 2.44x nginx's; 16 was as fast
 * as 32 with a worse p99.
 */
export const MAX_BATCH = 32;

let queued: Duplex[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const sockets = queued;
  queued = [];
  for (const socket of sockets) socket.uncork();
}

/** Cork `socket` until the end of this event-loop turn (see above); returns it for the write. */
export function coalesce<S extends Duplex>(socket: S): S {
  // Corked already: by this module (queued this turn), or by a caller that uncorks it itself.
  if (socket.writableCorked !== 0) return socket;
  if (queued.length >= MAX_BATCH) flush();
  socket.cork();
  queued.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  return socket;
}
