import assert from 'node:assert/strict';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { docker } from '../docker-cli.ts';
import { eventually, getFrom, type EchoReply, type HttpResult } from '../http-client.ts';
import type { Expectation, Expected, RequestSpec, RowContext } from './types.ts';

const exec = promisify(execFile);

/** What a conformance client sees: plain HTTP/1.1, raw bytes, gRPC over h2c, or a client inside a container. */

/** The echo backend's JSON answer (docker/echo/server.mjs), with room for the fields a scenario reads by name. */
export type Echo = EchoReply & { readonly [field: string]: unknown };

/** How long a request is retried until it meets its expectation (CONFORMANCE_WAIT_MS, default 10 s). */
export const ROUTE_WAIT = { timeoutMs: Number(process.env['CONFORMANCE_WAIT_MS'] ?? '') || 10_000, intervalMs: 100 };

export interface GetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly port?: number;
  readonly address?: string;
  readonly timeoutMs?: number;
}

/** One GET through berth (a new connection). */
export function get(ctx: RowContext, host: string, path = '/', options: GetOptions = {}): Promise<HttpResult> {
  return getFrom(options.address ?? '127.0.0.1', options.port ?? ctx.proxy.port, host, path, options.headers ?? {}, options.timeoutMs ?? 5000);
}

function parseJson(res: HttpResult): Record<string, unknown> {
  try {
    return JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new Error(`expected the echo backend's JSON, got status ${res.status}: ${res.body.slice(0, 300)}`);
  }
}

function check(where: string, actual: unknown, expected: Expected | undefined): void {
  if (expected === undefined) return;
  if (expected === null) assert.ok(actual === undefined || actual === null, `${where}: expected absent, got ${JSON.stringify(actual)}`);
  else if (expected instanceof RegExp) assert.match(String(actual), expected, `${where}: ${JSON.stringify(actual)} does not match ${String(expected)}`);
  else assert.equal(actual, expected, `${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Asserts what the client got; returns the echo JSON when the expectation looked into it. */
export function assertResponse(res: HttpResult, expect: Expectation, what: string): Record<string, unknown> | undefined {
  if (expect.status !== undefined) {
    assert.equal(res.status, expect.status, `${what}: expected status ${expect.status}, got ${res.status}: ${res.body.slice(0, 300)}`);
  }
  for (const [name, value] of Object.entries(expect.headers ?? {})) check(`${what}: response header ${name}`, res.headers[name], value);
  if (expect.body) assert.match(res.body, expect.body, `${what}: body ${JSON.stringify(res.body.slice(0, 300))}`);
  if (expect.echo === undefined && expect.echoHeaders === undefined) return undefined;
  const json = parseJson(res);
  for (const [field, value] of Object.entries(expect.echo ?? {})) check(`${what}: backend saw ${field}`, json[field], value);
  const headers = (json['headers'] ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(expect.echoHeaders ?? {})) check(`${what}: backend saw header ${name}`, headers[name], value);
  return json;
}

/** Runs one declarative request until it meets its expectation. */
export async function runRequest(ctx: RowContext, spec: RequestSpec): Promise<void> {
  const what = `GET ${spec.host}${spec.path ?? '/'}${spec.port ? ` on port ${spec.port}` : ''}${spec.address ? ` via ${spec.address}` : ''}`;
  const options: GetOptions = { ...(spec.headers ? { headers: spec.headers } : {}), ...(spec.port ? { port: spec.port } : {}), ...(spec.address ? { address: spec.address } : {}) };
  await eventually(async () => assertResponse(await get(ctx, spec.host, spec.path ?? '/', options), spec.expect, what), ROUTE_WAIT);
}

/** Waits until `host` answers 200 from an echo backend; returns what the backend saw. */
export async function routed(ctx: RowContext, host: string, path = '/', options: GetOptions = {}): Promise<Echo> {
  return eventually(async () => {
    const res = await get(ctx, host, path, options);
    assert.equal(res.status, 200, `GET ${host}${path}: expected 200, got ${res.status}: ${res.body.slice(0, 300)}`);
    return parseJson(res) as unknown as Echo;
  }, ROUTE_WAIT);
}

/** One 200 from the backend, no retry. */
export async function once(ctx: RowContext, host: string, path = '/', options: GetOptions = {}): Promise<Echo> {
  const res = await get(ctx, host, path, options);
  assert.equal(res.status, 200, `GET ${host}${path}: expected 200, got ${res.status}: ${res.body.slice(0, 300)}`);
  return parseJson(res) as unknown as Echo;
}

/** Waits until `host` answers `status` (not from the backend). */
export async function answers(ctx: RowContext, host: string, status: number, path = '/', options: GetOptions = {}): Promise<HttpResult> {
  return eventually(async () => {
    const res = await get(ctx, host, path, options);
    assert.equal(res.status, status, `GET ${host}${path}: expected ${status}, got ${res.status}: ${res.body.slice(0, 300)}`);
    return res;
  }, ROUTE_WAIT);
}

/** The backend names (NAME env) that answered `count` sequential requests. */
export async function names(ctx: RowContext, host: string, count: number, path = '/'): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < count; i += 1) seen.push((await once(ctx, host, path)).name);
  return seen;
}

export interface RawResult {
  readonly data: string;
  /** The server closed the connection (rather than the read timing out). */
  readonly closed: boolean;
}

/** Writes raw bytes, reads until the server closes the connection or `idleMs` pass without a byte. */
export function rawExchange(port: number, payload: Buffer | string, idleMs = 2000, address = '127.0.0.1'): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, address);
    let data = Buffer.alloc(0);
    let timer = setTimeout(() => done(false), idleMs);
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: data.toString('latin1'), closed });
    };
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done(true) : reject(err)));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      clearTimeout(timer);
      timer = setTimeout(() => done(false), idleMs);
    });
    socket.on('end', () => done(true));
    socket.write(payload);
  });
}

/** A PROXY protocol v1 header (TCP4) claiming a client and the address it connected to. */
export function proxyV1(source: string, sourcePort: number, dest: string, destPort: number): string {
  return `PROXY TCP4 ${source} ${dest} ${sourcePort} ${destPort}\r\n`;
}

/** A PROXY protocol v2 header (PROXY command, TCP over IPv4). */
export function proxyV2(source: string, sourcePort: number, dest: string, destPort: number): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const body = Buffer.alloc(12);
  source.split('.').forEach((o, i) => body.writeUInt8(Number(o), i));
  dest.split('.').forEach((o, i) => body.writeUInt8(Number(o), 4 + i));
  body.writeUInt16BE(sourcePort, 8);
  body.writeUInt16BE(destPort, 10);
  const head = Buffer.from([0x21, 0x11, 0x00, 0x0c]);
  return Buffer.concat([sig, head, body]);
}

/** A GET request's bytes, for raw exchanges. */
export function rawGet(host: string, path = '/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

/** Decodes a chunked body (as much of it as arrived). */
function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Status and body of a raw HTTP/1.1 response (chunked or not). */
export function parseRawResponse(data: string): { status: number; body: string } {
  const end = data.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
  const head = end >= 0 ? data.slice(0, end) : data;
  const body = end >= 0 ? data.slice(end + 4) : '';
  return { status, body: /\r\ntransfer-encoding:\s*chunked/i.test(head) ? unchunk(body) : body };
}

export interface GrpcResult {
  /** HTTP :status. */
  readonly status: number;
  /** grpc-status from the trailers (or the headers of a trailers-only answer); undefined when absent. */
  readonly grpcStatus: string | undefined;
  readonly grpcMessage: string | undefined;
  /** The echo backend's JSON message (docker/echo/grpc.mjs), undefined when no message came. */
  readonly reply: Record<string, unknown> | undefined;
}

function grpcFrame(message: string): Buffer {
  const payload = Buffer.from(message);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/**
 * One unary gRPC call over HTTP/2 cleartext with prior knowledge (h2c), what gRPC clients do for `http://`
 * targets: `:authority` is the virtual host.
 */
export function grpcCall(port: number, authority: string, path: string, message: string, metadata: Readonly<Record<string, string>> = {}, timeoutMs = 5000, target = `http://127.0.0.1:${port}`): Promise<GrpcResult> {
  return new Promise((resolve, reject) => {
    const session: ClientHttp2Session = connectH2(target, { rejectUnauthorized: false });
    const timer = setTimeout(() => fail(new Error(`gRPC call to ${authority}${path} timed out after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const req = session.request({ ':method': 'POST', ':path': path, ':authority': authority, 'content-type': 'application/grpc', te: 'trailers', ...metadata });
    let status = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    let data = Buffer.alloc(0);
    const take = (h: Record<string, unknown>): void => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = String(h['grpc-message']);
    };
    req.on('response', (headers) => {
      status = Number(headers[':status']);
      take(headers);
    });
    req.on('trailers', take);
    req.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      let reply: Record<string, unknown> | undefined;
      if (data.length >= 5) {
        const text = data.subarray(5, 5 + data.readUInt32BE(1)).toString('utf8');
        try {
          reply = JSON.parse(text) as Record<string, unknown>;
        } catch {
          reply = { text };
        }
      }
      resolve({ status, grpcStatus, grpcMessage, reply });
    });
    req.end(grpcFrame(message));
  });
}

/** Runs a gRPC call until it returns grpc-status `expected`. */
export async function grpcUntil(port: number, authority: string, path: string, expected: string, metadata: Readonly<Record<string, string>> = {}): Promise<GrpcResult> {
  return eventually(async () => {
    const result = await grpcCall(port, authority, path, 'hello berth', metadata);
    assert.equal(result.grpcStatus, expected, `gRPC ${authority}${path}: HTTP ${result.status}, grpc-status ${String(result.grpcStatus)} (${String(result.grpcMessage)}), reply ${JSON.stringify(result.reply)}`);
    return result;
  }, ROUTE_WAIT);
}

export interface ExternalResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * GET from inside a container (docker/echo/client.mjs), i.e. from that container's address: `url` must reach
 * berth from there (for a process berth on the host: the gateway of the container's network).
 */
export async function getFromContainer(container: string, url: string, host: string): Promise<ExternalResult> {
  try {
    const { stdout } = await exec('docker', ['exec', container, 'node', '/app/client.mjs', url, host], { timeout: 20_000 });
    return JSON.parse(stdout) as ExternalResult;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`GET ${url} (Host ${host}) from container ${container}: ${(e.stdout ?? '').trim() || (e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

/** The gateway of `network` as `container` sees it: the host's address there, where it reaches a process berth. */
export async function gatewayOf(container: string, network: string): Promise<string> {
  const gateway = await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").Gateway}}`, container]);
  assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, `container ${container} has no IPv4 gateway on ${network}`);
  return gateway;
}
