import { connect } from 'node:net';
import { request } from 'undici';

/** Client-side helpers: what a user's client sees, plus a polling helper (tests never sleep a fixed time). */

export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  json<T = EchoReply>(): T;
}

/** What the echo image (docker/echo/server.mjs) answers. */
export interface EchoReply {
  readonly version: string;
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  /** The SNI name the client sent over TLS, null when none. */
  readonly servername: string | null;
}

/**
 * GET http://127.0.0.1:<port><path> with the given Host header. One connection per request (`reset`), so no
 * keep-alive connection outlives a berth under test and every request is balanced on its own.
 */
export function get(
  port: number,
  host: string,
  path = '/',
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 10_000,
): Promise<HttpResult> {
  return getFrom('127.0.0.1', port, host, path, headers, timeoutMs);
}

/** Like `get`, to any address: a container's own address, to check a backend without berth. */
export async function getFrom(
  address: string,
  port: number,
  host: string,
  path = '/',
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 10_000,
): Promise<HttpResult> {
  const authority = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  const res = await request(`http://${authority}${path}`, {
    method: 'GET',
    headers: { ...headers, host },
    reset: true,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    json<T>(): T {
      try {
        return JSON.parse(body) as T;
      } catch {
        throw new Error(`expected a JSON body, got status ${res.statusCode}: ${body.slice(0, 300)}`);
      }
    },
  };
}

export interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Calls `fn` until it resolves without throwing (assertions included) and returns its value; after `timeoutMs`
 * rethrows the last failure, saying how long and how many attempts it took.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const start = Date.now();
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      return await fn();
    } catch (err) {
      if (Date.now() - start >= timeoutMs) {
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(`still failing after ${Date.now() - start} ms (${attempts} attempts): ${message}`, { cause: err });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface UpgradeResult {
  /** e.g. `HTTP/1.1 101 Switching Protocols` */
  readonly statusLine: string;
  readonly status: number;
  /** Lower-cased response header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The bytes read back after the switch (as many as were written), empty if the status was not 101. */
  readonly echoed: Buffer;
}

function parseHead(head: string): { statusLine: string; status: number; headers: Record<string, string> } {
  const [statusLine = '', ...rest] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers };
}

/**
 * Raw-socket Upgrade: sends `GET <path>` with `Connection: Upgrade` and `Upgrade: <protocol>`, waits for the
 * response head, and if it is 101 writes `payload` and reads the same number of bytes back.
 */
export function upgradeEcho(
  port: number,
  host: string,
  payload: Buffer,
  options: { path?: string; protocol?: string; timeoutMs?: number; address?: string } = {},
): Promise<UpgradeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, options.address ?? '127.0.0.1');
    let received = Buffer.alloc(0);
    let head: ReturnType<typeof parseHead> | undefined;
    const timer = setTimeout(() => finish(new Error(`upgrade to ${host} timed out after ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, result?: UpgradeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else if (result) resolve(result);
    };
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection closed; received so far: ${JSON.stringify(received.toString('latin1'))}`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (head === undefined) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = parseHead(received.subarray(0, end).toString('latin1'));
        received = received.subarray(end + 4);
        if (head.status !== 101) {
          finish(undefined, { ...head, echoed: Buffer.alloc(0) });
          return;
        }
        socket.write(payload);
      }
      if (received.length >= payload.length) finish(undefined, { ...head, echoed: received.subarray(0, payload.length) });
    });
    socket.write(
      `GET ${options.path ?? '/'} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\n` +
        `Upgrade: ${options.protocol ?? 'websocket'}\r\n\r\n`,
    );
  });
}
