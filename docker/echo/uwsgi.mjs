// A uwsgi-protocol responder (what nginx's uwsgi_pass speaks): a 4-byte header (modifier1, u16le size of the vars
// block, modifier2), the vars block (u16le key length, key, u16le value length, value, repeated), then CONTENT_LENGTH
// bytes of body. It answers a raw HTTP/1.1 response, JSON
//   { version, name, hostname, port, proto: 'uwsgi', vars, body, remoteAddress, remotePort }
// and closes the connection (uwsgi has one request per connection).
import { createServer } from 'node:net';
import { peer } from './peer.mjs';

/** The vars of a uwsgi packet's vars block. */
export function parseUwsgiVars(block) {
  const vars = {};
  let at = 0;
  while (at + 2 <= block.length) {
    const keyLength = block.readUInt16LE(at);
    const key = block.subarray(at + 2, at + 2 + keyLength).toString('latin1');
    at += 2 + keyLength;
    const valueLength = block.readUInt16LE(at);
    vars[key] = block.subarray(at + 2, at + 2 + valueLength).toString('latin1');
    at += 2 + valueLength;
  }
  return vars;
}

function respond(identity, port, socket, vars, body) {
  const json = JSON.stringify({ ...identity, port, proto: 'uwsgi', vars, body: body.toString('utf8'), ...peer(socket) });
  socket.end(
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
      `Connection: close\r\n\r\n${json}`,
  );
}

export function createUwsgiServer(identity, port) {
  return createServer((socket) => {
    let received = Buffer.alloc(0);
    let vars;
    let need = Infinity;
    let done = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (vars === undefined) {
        if (received.length < 4) return;
        const size = received.readUInt16LE(1);
        if (received.length < 4 + size) return;
        vars = parseUwsgiVars(received.subarray(4, 4 + size));
        received = received.subarray(4 + size);
        need = Number(vars.CONTENT_LENGTH || 0);
      }
      if (!done && received.length >= need) {
        done = true;
        respond(identity, port, socket, vars, received.subarray(0, need));
      }
    });
  });
}
