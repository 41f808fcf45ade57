// A FastCGI responder (what nginx's fastcgi_pass speaks): FCGI_BEGIN_REQUEST, FCGI_PARAMS (name-value pairs, ended
// by an empty record), FCGI_STDIN (ended by an empty record) -> FCGI_STDOUT with a CGI response
// (`Status`, `Content-Type`, JSON body), an empty FCGI_STDOUT, FCGI_END_REQUEST. The JSON:
//   { version, name, hostname, port, proto: 'fastcgi', params, body, keepConn, requestOnConnection,
//     remoteAddress, remotePort }
// `params` holds every param nginx sent (SCRIPT_FILENAME, DOCUMENT_ROOT, REQUEST_URI, HTTP_HOST, ...); with the
// FCGI_KEEP_CONN flag (nginx's `fastcgi_keep_conn on`) the connection stays open for the next request, and
// `requestOnConnection` counts the requests served on it (1, 2, ...), so a test can see connections being reused.
import { createServer } from 'node:net';
import { peer } from './peer.mjs';

const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const KEEP_CONN = 1;

function record(type, requestId, content = Buffer.alloc(0)) {
  const padding = (8 - (content.length % 8)) % 8;
  const head = Buffer.alloc(8);
  head.writeUInt8(1, 0);
  head.writeUInt8(type, 1);
  head.writeUInt16BE(requestId, 2);
  head.writeUInt16BE(content.length, 4);
  head.writeUInt8(padding, 6);
  return Buffer.concat([head, content, Buffer.alloc(padding)]);
}

function readLength(buf, at) {
  const first = buf.readUInt8(at);
  return first >> 7 === 0 ? [first, at + 1] : [buf.readUInt32BE(at) & 0x7fffffff, at + 4];
}

/** FastCGI name-value pairs. */
export function parseParams(buf) {
  const params = {};
  let at = 0;
  while (at < buf.length) {
    const [nameLength, a1] = readLength(buf, at);
    const [valueLength, a2] = readLength(buf, a1);
    params[buf.subarray(a2, a2 + nameLength).toString('latin1')] = buf.subarray(a2 + nameLength, a2 + nameLength + valueLength).toString('latin1');
    at = a2 + nameLength + valueLength;
  }
  return params;
}

function respond(identity, port, socket, id, request, served) {
  const json = JSON.stringify({
    ...identity,
    port,
    proto: 'fastcgi',
    params: parseParams(Buffer.concat(request.params)),
    body: Buffer.concat(request.stdin).toString('utf8'),
    keepConn: request.keepConn,
    requestOnConnection: served,
    ...peer(socket),
  });
  const out = Buffer.from(`Status: 200 OK\r\nContent-Type: application/json\r\n\r\n${json}`);
  const records = [];
  for (let at = 0; at < out.length; at += 65535) records.push(record(STDOUT, id, out.subarray(at, at + 65535)));
  const end = Buffer.alloc(8); // appStatus 0, protocolStatus FCGI_REQUEST_COMPLETE
  records.push(record(STDOUT, id), record(END_REQUEST, id, end));
  socket.write(Buffer.concat(records));
  if (!request.keepConn) socket.end();
}

export function createFastcgiServer(identity, port) {
  return createServer((socket) => {
    let received = Buffer.alloc(0);
    const requests = new Map();
    let served = 0;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 8) {
        const type = received.readUInt8(1);
        const id = received.readUInt16BE(2);
        const length = received.readUInt16BE(4);
        const total = 8 + length + received.readUInt8(6);
        if (received.length < total) return;
        const content = received.subarray(8, 8 + length);
        received = received.subarray(total);
        if (type === BEGIN_REQUEST) {
          requests.set(id, { keepConn: (content.readUInt8(2) & KEEP_CONN) !== 0, params: [], stdin: [] });
        } else if (type === PARAMS && length > 0) {
          requests.get(id)?.params.push(Buffer.from(content));
        } else if (type === STDIN && length > 0) {
          requests.get(id)?.stdin.push(Buffer.from(content));
        } else if (type === STDIN) {
          const request = requests.get(id);
          requests.delete(id);
          served += 1;
          if (request) respond(identity, port, socket, id, request, served);
        }
      }
    });
  });
}
