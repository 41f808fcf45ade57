import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import type { DownstreamRequest, DownstreamResponse } from './downstream.ts';
import { PortListener, type PortSettings } from './port-listener.ts';

/**
 * Closing a port with a slow reader on it: an answer that is complete on berth's side but still in the socket's
 * buffer reaches the client whole, on node:http's path as on the fast lane's.
 */

const BODY_BYTES = 48 * 1024 * 1024; // far more than loopback's socket buffers hold: most of it waits in Node's

/** The lane on: a GET stays in it, a request with a body goes to node:http. */
const SETTINGS: PortSettings = {
  listenAddress: '127.0.0.1',
  enableIpv6: false,
  enableProxyProtocol: false,
  clientHeaderTimeoutMs: 5000,
  clientKeepAliveTimeoutMs: 5000,
  upstreamTimeoutMs: 5000,
  backendWaitMs: 1000,
  fastLane: true,
};

/** Reads the whole response; resolves with the byte count once the server closes the connection. */
function drain(socket: Socket): Promise<number> {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve(bytes));
  });
}

describe('port listener: close with a slow reader', () => {
  for (const [name, request] of [
    ['fast lane', 'GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['node:http (a request with a body)', 'POST /big HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nhi'],
  ] as const) {
    it(`${name}: an answer finished but not yet flushed is sent whole, then the connection closes`, async () => {
      const body = Buffer.alloc(BODY_BYTES, 'x');
      let answered!: () => void;
      const handled = new Promise<void>((resolve) => (answered = resolve));
      const onRequest = (req: DownstreamRequest, res: DownstreamResponse): void => {
        const reply = (): void => {
          res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(body.length)]);
          res.end(body);
          answered();
        };
        if ('on' in req) (req as unknown as NodeJS.ReadableStream).on('data', () => undefined).on('end', reply);
        else reply();
      };
      const listener = new PortListener(0, SETTINGS, { onRequest, onUpgrade: () => undefined, onStream: () => undefined }, createLogger('silent', false));
      await listener.open();
      const client = connect(listener.port, '127.0.0.1');
      await once(client, 'connect');
      client.pause(); // a slow reader: nothing is read until the close has begun
      client.write(request);
      await handled;
      const closed = listener.close(20_000);
      const received = drain(client);
      client.resume();
      const bytes = await received;
      const head = 'HTTP/1.1 200 OK\r\n'.length;
      assert.ok(bytes > BODY_BYTES + head, `the whole answer: ${bytes} bytes for a ${BODY_BYTES}-byte body`);
      assert.equal(await closed, 'closed', 'closed once the answer was out, not cut at the grace timeout');
    });
  }
});
