// berth's demo backend: a dependency-free echo server (the tutorial's "echo" image, also the e2e fixture).
//
// Env: PORT (default 80) and PORTS (comma list of extra ports); every listener answers with its own port.
//      VERSION (default v1) and NAME (default '') are reported in every answer.
// Every request gets JSON { version, name, hostname, port, method, url, headers }, except:
//   GET /healthz                  -> 200 `ok` (used by the image's HEALTHCHECK)
//   ?delay=<ms>                   -> answer after that many ms (slow requests for draining tests)
//   ?status=<code>                -> answer with that status code
//   Upgrade: <anything>           -> `HTTP/1.1 101 Switching Protocols`, then every byte is echoed back raw
// SIGTERM/SIGINT: stop accepting, let in-flight requests finish, end upgraded tunnels, exit 0.
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const version = process.env.VERSION ?? 'v1';
const name = process.env.NAME ?? '';
const host = hostname();

function listPorts() {
  const ports = [process.env.PORT ?? '80', ...(process.env.PORTS ?? '').split(',')]
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(Number);
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      console.error(`echo: invalid port ${p} in PORT/PORTS`);
      process.exit(2);
    }
  }
  return [...new Set(ports)];
}

function queryNumber(url, key) {
  const value = new URL(url ?? '/', 'http://x').searchParams.get(key);
  return value === null || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
}

const tunnels = new Set();
let stopping = false;

function handle(port, req, res) {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const body = JSON.stringify({ version, name, hostname: host, port, method: req.method, url: req.url, headers: req.headers });
  const status = queryNumber(req.url, 'status') ?? 200;
  const send = () => {
    // While stopping, tell keep-alive clients not to reuse this connection.
    if (stopping) res.setHeader('connection', 'close');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };
  // Drain the request body (if any) before answering so POSTs complete normally.
  req.resume();
  req.on('end', () => {
    const delay = queryNumber(req.url, 'delay');
    if (delay !== undefined && delay > 0) {
      // Logged so a test can tell that a slow request is in flight before it stops the container.
      console.log(`echo: delaying ${req.method} ${req.url} by ${delay} ms`);
      setTimeout(send, delay);
    } else {
      send();
    }
  });
}

function upgrade(req, socket, head) {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      `Upgrade: ${req.headers.upgrade ?? 'echo'}\r\n` +
      'Connection: Upgrade\r\n\r\n',
  );
  if (head.length > 0) socket.write(head);
  tunnels.add(socket);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => tunnels.delete(socket));
  socket.pipe(socket);
}

const servers = listPorts().map((port) => {
  const server = createServer((req, res) => handle(port, req, res));
  server.on('upgrade', upgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(port, () => console.log(`echo ${version} ${name} listening on ${port}`));
  return server;
});

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`echo: ${signal}, closing`);
  let open = servers.length;
  for (const server of servers) {
    server.close(() => {
      open -= 1;
      if (open === 0) process.exit(0);
    });
    server.closeIdleConnections();
  }
  for (const socket of tunnels) socket.end();
  // Keep-alive connections that were busy when the signal came are closed once they go idle.
  setInterval(() => servers.forEach((s) => s.closeIdleConnections()), 100).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
