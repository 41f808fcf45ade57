// A minimal gRPC server on node:http2 (no .proto, no library): every POST reads the length-prefixed request messages
// (1-byte compressed flag, 4-byte big-endian length, payload) and answers ONE message whose payload is the JSON
//   { version, name, hostname, port, path, authority, message, metadata, remoteAddress, remotePort, tls }
// (`message` = the first request message as UTF-8, `metadata` = the request headers), then the trailers
// `grpc-status: 0`. The method `/echo.Echo/Fail` answers no message and `grpc-status: 13` (INTERNAL).
// Without TLS it speaks h2c (prior knowledge), with TLS h2 negotiated by ALPN.
import { createSecureServer, createServer } from 'node:http2';
import { peer } from './peer.mjs';

/** Frames one gRPC message. */
export function frame(payload) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** The first message of a gRPC body (undefined when the body holds none). */
function firstMessage(body) {
  if (body.length < 5) return undefined;
  const length = body.readUInt32BE(1);
  return body.subarray(5, 5 + length);
}

function answer(identity, port, stream, headers, body) {
  const path = headers[':path'] ?? '';
  const metadata = Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(':')));
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  let status = '0';
  let message = '';
  if (path === '/echo.Echo/Fail') {
    status = '13';
    message = 'echo: failing on purpose';
  } else {
    const reply = {
      ...identity,
      port,
      path,
      authority: headers[':authority'] ?? null,
      message: firstMessage(body)?.toString('utf8') ?? null,
      metadata,
      ...peer(stream.session.socket),
      tls: stream.session.encrypted === true,
    };
    stream.write(frame(Buffer.from(JSON.stringify(reply))));
  }
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status, 'grpc-message': message }));
  stream.end();
}

export function createGrpcServer(identity, port, tlsOptions) {
  const server = tlsOptions === undefined ? createServer() : createSecureServer({ ...tlsOptions, allowHTTP1: false });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => stream.destroy());
    if (headers[':method'] !== 'POST') {
      stream.respond({ ':status': 405, 'content-type': 'text/plain' });
      stream.end('gRPC only: POST\n');
      return;
    }
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => answer(identity, port, stream, headers, Buffer.concat(chunks)));
  });
  server.on('sessionError', () => undefined);
  return server;
}
