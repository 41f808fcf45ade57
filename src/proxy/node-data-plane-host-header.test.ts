import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange, startEchoBackend, startPlane, table, upstream, type Backend, type TestPlane } from './test-harness.ts';

/**
 * Host header lines nginx refuses before choosing a server (RFC 9112 section 3.2): more than one, or an empty one,
 * is a 400 that closes the connection, on every request path of the Node plane (fast lane, node:http, upgrades),
 * and nothing reaches a backend.
 */

describe('node data plane: invalid Host header lines', () => {
  let backend: Backend;
  let plane: TestPlane;
  let seen = 0;

  before(async () => {
    backend = await startEchoBackend('a');
    backend.server.on('request', () => seen++);
    backend.server.on('upgrade', (_req, socket) => {
      seen++;
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    plane = await startPlane(table({ 'app.test': [upstream(backend.port)] }));
  });

  after(async () => {
    await plane.stop(1000);
    await backend.close();
  });

  const refused = async (request: string, problem: RegExp): Promise<void> => {
    const before = seen;
    // rawExchange resolves when berth closes the connection: a 400 that kept it open would time out here.
    const answer = await rawExchange(plane.port ?? 0, request);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nx-berth-error: BAD_REQUEST\r\n/i);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.match(answer, problem);
    assert.equal(seen, before, 'no backend saw the request');
  };

  it('refuses two Host lines (fast lane: a bodiless GET)', async () => {
    await refused('GET / HTTP/1.1\r\nHost: app.test\r\nHost: other.test\r\n\r\n', /invalid request: 2 Host header lines/);
  });

  it('refuses two Host lines with the same value, and on node:http (a request with a body)', async () => {
    await refused('POST / HTTP/1.1\r\nHost: app.test\r\nhost: app.test\r\nContent-Length: 2\r\n\r\nhi', /2 Host header lines/);
  });

  it('refuses an empty Host header, HTTP/1.1 and HTTP/1.0', async () => {
    await refused('GET / HTTP/1.1\r\nHost: \r\n\r\n', /invalid request: an empty Host header/);
    await refused('GET / HTTP/1.0\r\nHost:\r\n\r\n', /an empty Host header/);
  });

  it('refuses two Host lines on an Upgrade request', async () => {
    await refused('GET /ws HTTP/1.1\r\nHost: app.test\r\nHost: other.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', /2 Host header lines/);
  });

  it('still routes one Host line, and an HTTP/1.0 request without one goes to the default answer', async () => {
    const ok = await rawExchange(plane.port ?? 0, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.match(ok, /^HTTP\/1\.1 200 /);
    const noHost = await rawExchange(plane.port ?? 0, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 503 /);
    assert.match(noHost, /x-berth-error: NO_ROUTE/i);
  });
});
