// The echo server's opt-in listeners, one per nginx-proxy VIRTUAL_PROTO form, each enabled by its env variable:
//   HTTPS_PORT (https), GRPC_PORT (grpc: h2c), GRPCS_PORT (grpcs: h2 + TLS), UWSGI_PORT (uwsgi), FASTCGI_PORT (fastcgi).
// TLS listeners use TLS_CERT / TLS_KEY (default /app/tls-cert.pem and /app/tls-key.pem: a self-signed pair that
// docker/build-test-images.sh generates at build time; an image built without it refuses HTTPS_PORT/GRPCS_PORT).
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createGrpcServer } from './grpc.mjs';
import { createUwsgiServer } from './uwsgi.mjs';
import { createFastcgiServer } from './fastcgi.mjs';

export { peer } from './peer.mjs';

function envPort(key) {
  const raw = (process.env[key] ?? '').trim();
  if (raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`echo: invalid ${key}=${raw} (a port number)`);
    process.exit(2);
  }
  return port;
}

let tlsOptions;
function tls(key) {
  if (tlsOptions) return tlsOptions;
  const certPath = process.env.TLS_CERT ?? '/app/tls-cert.pem';
  const keyPath = process.env.TLS_KEY ?? '/app/tls-key.pem';
  try {
    tlsOptions = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  } catch (err) {
    console.error(`echo: ${key} needs a certificate: ${err.message} (docker/build-test-images.sh generates one)`);
    process.exit(2);
  }
  return tlsOptions;
}

function listening(server, port, what) {
  server.listen(port, () => console.log(`echo: ${what} listening on ${port}`));
  return server;
}

/**
 * Starts every listener whose env variable is set; returns the servers (closed with the HTTP ones at stop).
 * `handle(port, req, res)` and `upgrade` are server.mjs's HTTP handlers, reused for HTTPS.
 */
export function startProtocolListeners(identity, handle, upgrade) {
  const servers = [];
  const httpsPort = envPort('HTTPS_PORT');
  if (httpsPort !== undefined) {
    const server = createHttpsServer(tls('HTTPS_PORT'), (req, res) => handle(httpsPort, req, res));
    server.on('upgrade', upgrade);
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    servers.push(listening(server, httpsPort, 'https'));
  }
  const grpcPort = envPort('GRPC_PORT');
  if (grpcPort !== undefined) servers.push(listening(createGrpcServer(identity, grpcPort, undefined), grpcPort, 'grpc (h2c)'));
  const grpcsPort = envPort('GRPCS_PORT');
  if (grpcsPort !== undefined) servers.push(listening(createGrpcServer(identity, grpcsPort, tls('GRPCS_PORT')), grpcsPort, 'grpcs'));
  const uwsgiPort = envPort('UWSGI_PORT');
  if (uwsgiPort !== undefined) servers.push(listening(createUwsgiServer(identity, uwsgiPort), uwsgiPort, 'uwsgi'));
  const fastcgiPort = envPort('FASTCGI_PORT');
  if (fastcgiPort !== undefined) servers.push(listening(createFastcgiServer(identity, fastcgiPort), fastcgiPort, 'fastcgi'));
  return servers;
}
