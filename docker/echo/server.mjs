// berth's demo backend: a dependency-free echo server (the tutorial's "echo" image, also the e2e fixture).
//
// Env: PORT (default 80) and PORTS (comma list of extra ports); every listener answers with its own port.
//      VERSION (default v1) and NAME (default '') are reported in every answer.
//      STARTUP_DELAY (ms, default 0): wait that long before listening (a slow starter: the container runs, the
//        port refuses connections).
//      RESPONSE_DELAY (ms, default 0): every answer waits that long (a slow replica among fast ones).
//      SHUTDOWN (default graceful) and SHUTDOWN_DELAY (ms, default 3000) choose what SIGTERM/SIGINT does:
//        graceful  keep serving for SHUTDOWN_DELAY (listener open, new requests answered, as an app behind a
//                  load balancer with a pre-stop pause does), then stop accepting, finish in-flight requests,
//                  end upgraded tunnels, exit 0.
//        close     stop accepting at once (new connections are refused), close idle keep-alive connections,
//                  finish in-flight requests, end upgraded tunnels, exit 0 SHUTDOWN_DELAY after the signal (or
//                  when the last in-flight request is done, if that is later).
//      Opt-in extra listeners (test backends for nginx-proxy's VIRTUAL_PROTO forms; see protocols.mjs):
//        HTTPS_PORT   the same JSON answers over TLS (self-signed cert, TLS_CERT/TLS_KEY, default /app/tls-cert.pem, /app/tls-key.pem);
//                     answers say `tls: true` and the SNI `servername` the client sent (null when none)
//        GRPC_PORT    gRPC over HTTP/2 cleartext (h2c); GRPCS_PORT: gRPC over HTTP/2 + TLS (see grpc.mjs)
//        UWSGI_PORT   the uwsgi protocol (see uwsgi.mjs); FASTCGI_PORT: FastCGI (see fastcgi.mjs)
// Every request gets JSON { version, name, hostname, port, method, url, headers, remoteAddress, remotePort, tls,
// servername }, except:
//   GET /healthz                  -> 200 `ok` (used by the image's HEALTHCHECK)
//   ?delay=<ms>                   -> answer after that many ms (slow requests for draining tests)
//   ?status=<code>                -> answer with that status code
//   Upgrade: <anything>           -> `HTTP/1.1 101 Switching Protocols`, then every byte is echoed back raw
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { peer, startProtocolListeners } from './protocols.mjs';

const version = process.env.VERSION ?? 'v1';
const name = process.env.NAME ?? '';
const host = hostname();

function envMs(key, fallback) {
  const raw = (process.env[key] ?? '').trim();
  if (raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`echo: invalid ${key}=${raw} (milliseconds, >= 0)`);
    process.exit(2);
  }
  return value;
}

const startupDelay = envMs('STARTUP_DELAY', 0);
const responseDelay = envMs('RESPONSE_DELAY', 0);
const shutdownDelay = envMs('SHUTDOWN_DELAY', 3000);
const shutdownMode = (process.env.SHUTDOWN ?? '').trim() || 'graceful';
if (shutdownMode !== 'graceful' && shutdownMode !== 'close') {
  console.error(`echo: invalid SHUTDOWN=${shutdownMode} (graceful or close)`);
  process.exit(2);
}

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
/** A stop signal arrived. */
let stopping = false;
/** The listeners are closing: answers say `connection: close`. */
let closing = false;

function handle(port, req, res) {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const tls = req.socket.encrypted === true;
  const body = JSON.stringify({
    version,
    name,
    hostname: host,
    port,
    method: req.method,
    url: req.url,
    headers: req.headers,
    ...peer(req.socket),
    tls,
    servername: tls ? req.socket.servername || null : null,
  });
  const status = queryNumber(req.url, 'status') ?? 200;
  const send = () => {
    // While stopping, tell keep-alive clients not to reuse this connection.
    if (closing) res.setHeader('connection', 'close');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };
  // Drain the request body (if any) before answering so POSTs complete normally.
  req.resume();
  req.on('end', () => {
    const delay = queryNumber(req.url, 'delay') ?? (responseDelay > 0 ? responseDelay : undefined);
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

const ports = listPorts();
const servers = ports.map((port) => {
  const server = createServer((req, res) => handle(port, req, res));
  server.on('upgrade', upgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
});

function listen() {
  if (stopping) return;
  servers.forEach((server, i) => {
    const port = ports[i];
    server.listen(port, () => console.log(`echo ${version} ${name} listening on ${port}`));
  });
  // The opt-in protocol listeners (HTTPS_PORT, GRPC_PORT, ...) join `servers`, so a stop closes them too.
  servers.push(...startProtocolListeners({ version, name, hostname: host }, handle, upgrade));
}

if (startupDelay > 0) {
  console.log(`echo: starting in ${startupDelay} ms`);
  setTimeout(listen, startupDelay);
} else {
  listen();
}

/** Stops accepting, ends tunnels, closes keep-alive connections as they go idle; resolves when all listeners closed. */
function closeListeners() {
  // While closing, answers carry `connection: close` so keep-alive clients do not reuse the connection.
  closing = true;
  for (const socket of tunnels) socket.end();
  const closed = servers.map(
    (server) =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections?.();
      }),
  );
  // Keep-alive connections that were busy when the listener closed are closed once they go idle.
  setInterval(() => servers.forEach((s) => s.closeIdleConnections?.()), 100).unref();
  return Promise.all(closed);
}

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  const delay = new Promise((resolve) => setTimeout(resolve, shutdownDelay));
  if (shutdownMode === 'close') {
    console.log(`echo: ${signal}, closing now, exiting in ${shutdownDelay} ms`);
    Promise.all([closeListeners(), delay]).then(() => process.exit(0));
  } else {
    console.log(`echo: ${signal}, serving ${shutdownDelay} ms more, then closing`);
    delay.then(closeListeners).then(() => process.exit(0));
  }
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
