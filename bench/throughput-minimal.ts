/**
 * The floor for a Node proxy on this machine, as in the environment reference's anchors: a bare undici Pool.stream
 * proxy (no routing, no header rewriting, no readiness, no retries), keep-alive pool without a connection limit.
 * Not berth: a reference row of bench/throughput (`undici-minimal`).
 *
 *   node bench/throughput-minimal.ts <port> <backendPort>   (through tsx: --import tsx)
 */
import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [port = '0', backendPort = '0'] = process.argv.slice(2);
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
