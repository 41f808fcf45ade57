/**
 * Bare Node proxies, the reference rows of bench/throughput for the choice of berth's upstream client (not berth:
 * no routing, no header rewriting, no readiness, no retries), each a node:http server with one keep-alive pool:
 *   undici   undici Pool.stream (the fastest undici API for a proxy), no connection limit
 *   h1       berth's own HTTP/1.1 client (src/proxy/h1), as forward.ts drives it
 *
 *   node bench/throughput-minimal.ts <undici|h1> <port> <backendPort>   (through tsx: --import tsx)
 */
import { createServer, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamHandler } from '../src/proxy/h1/connection.ts';
import { H1Pool } from '../src/proxy/h1/pool.ts';

const [client = 'undici', port = '0', backendPort = '0'] = process.argv.slice(2);

function undiciProxy(): void {
  const pool = new Pool(`http://127.0.0.1:${backendPort}`, { keepAliveTimeout: 4000 });
  createServer((req, res) => {
    pool.stream(
      { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: req.headers, opaque: res },
      ({ statusCode, headers, opaque }) => {
        const out = opaque as typeof res;
        out.writeHead(statusCode, headers);
        return out;
      },
      (err) => {
        if (err !== null && !res.headersSent) {
          res.writeHead(502);
          res.end();
        }
      },
    );
  }).listen(Number(port), '127.0.0.1');
}

function h1Handler(res: ServerResponse): UpstreamHandler {
  return {
    onConnect: () => undefined,
    onHeaders: (status, headers) => void res.writeHead(status, headers),
    onData: (chunk) => res.write(chunk),
    onComplete: (last) => void res.end(last),
    onError: () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    },
  };
}

function h1Proxy(): void {
  const pool = new H1Pool({ host: '127.0.0.1', port: Number(backendPort), tls: false, connectTimeoutMs: 5000, upstreamTimeoutMs: 60_000, keepAliveTimeoutMs: 4000 });
  createServer((req, res) => {
    const headers: string[] = [];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.push((raw[i] as string).toLowerCase(), raw[i + 1] as string);
    pool.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: null }, h1Handler(res));
  }).listen(Number(port), '127.0.0.1');
}

if (client === 'h1') h1Proxy();
else undiciProxy();
