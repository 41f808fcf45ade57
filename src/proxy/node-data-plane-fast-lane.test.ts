import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from './test-harness.ts';
import { rawExchange, startBackend, startPlane, table, upstream } from './test-harness.ts';

/**
 * The fast lane inside the Node data plane, against a real backend: a keep-alive connection that starts in the
 * lane and moves to node:http mid-way keeps every request intact, and what a client reads is the same with the
 * lane on and off (BERTH_FAST_LANE).
 */

const GET = 'GET /a?x=1 HTTP/1.1\r\nHost: app.test\r\nAccept: */*\r\n\r\n';
const POST = 'POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
const LAST = 'GET /b HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n';

interface Parsed {
  readonly head: string;
  readonly body: { method: string; url: string; body: string; headers: Record<string, string> };
}

/** Splits a close-delimited stream of Content-Length responses. */
function responses(raw: string): Parsed[] {
  const out: Parsed[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `a response head in ${JSON.stringify(rest.slice(0, 200))}`);
    const head = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
    assert.ok(Number.isInteger(length), `Content-Length in ${head}`);
    out.push({ head, body: JSON.parse(rest.slice(end + 4, end + 4 + length)) as Parsed['body'] });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

/** An echo backend that answers with a Content-Length (the test splits the responses by it). */
function startLengthEcho(): Promise<Backend> {
  return startBackend((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.from(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
}

/** What differs between two planes' answers: Date, and the plane's own port echoed in Host / X-Forwarded-Port. */
const stable = (raw: string, port: number): string => raw.replace(/\r\nDate: [^\r]*/gi, '\r\nDate: *').replaceAll(String(port), 'PORT');

describe('node data plane: fast lane', () => {
  it('a connection moved to node:http by a request with a body keeps every request and answer intact', async () => {
    const b = await startLengthEcho();
    const plane = await startPlane(table({ 'app.test': [upstream(b.port, 'b')] }));
    try {
      const [first, post, last] = responses(await rawExchange(plane.port ?? 0, GET + POST + LAST));
      assert.ok(first !== undefined && post !== undefined && last !== undefined);
      assert.match(first.head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.deepEqual([first.body.method, first.body.url], ['GET', '/a?x=1']);
      assert.deepEqual([post.body.method, post.body.url, post.body.body], ['POST', '/echo', 'hello']);
      assert.equal(post.body.headers['content-length'], '5');
      assert.deepEqual([last.body.method, last.body.url], ['GET', '/b']);
      assert.match(last.head, /\r\nConnection: close(\r\n|$)/i);
      for (const r of [first, post, last]) assert.equal(r.body.headers['x-forwarded-for'], '127.0.0.1');
    } finally {
      await plane.stop(1000);
      await b.close();
    }
  });

  it('a client reads the same answers with the lane on and off', async () => {
    const b = await startLengthEcho();
    const on = await startPlane(table({ 'app.test': [upstream(b.port, 'b')] }), { fastLane: true });
    const off = await startPlane(table({ 'app.test': [upstream(b.port, 'b')] }), { fastLane: false });
    try {
      const requests = [
        GET + GET.replace('/a?x=1', '/c') + LAST,
        'HEAD /h HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: unknown.test\r\nConnection: close\r\n\r\n',
        'GET /%zz HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n',
      ];
      for (const request of requests) {
        const [a, c] = await Promise.all([rawExchange(on.port ?? 0, request), rawExchange(off.port ?? 0, request)]);
        assert.ok(a.startsWith('HTTP/1.1 '), a);
        assert.equal(stable(a, on.port ?? 0), stable(c, off.port ?? 0), `answers to ${JSON.stringify(request)}`);
      }
    } finally {
      await Promise.all([on.stop(1000), off.stop(1000)]);
      await b.close();
    }
  });
});
