import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { DownstreamRequest, DownstreamResponse } from './downstream.ts';
import { forward, type ForwardResult } from './forward.ts';
import type { UpstreamHandler, UpstreamRequest } from './h1/connection.ts';
import type { UpstreamDispatcher } from './upstream-pools.ts';

/** A response that records what the exchange did to it, and how many `close` listeners it had when ended. */
class RecordingResponse extends EventEmitter implements DownstreamResponse {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  statusCode = 200;
  readonly written: Buffer[] = [];
  closeListenersAtEnd = -1;

  writeHead(statusCode: number): this {
    this.statusCode = statusCode;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer): boolean {
    this.written.push(chunk);
    return true;
  }

  end(chunk?: Buffer): this {
    this.closeListenersAtEnd = this.listenerCount('close');
    if (chunk !== undefined) this.written.push(chunk);
    this.writableEnded = true;
    this.writableFinished = true;
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }
}

const request: DownstreamRequest = { method: 'GET', url: '/', rawHeaders: [], httpVersion: '1.1', socket: {} as Socket, complete: true, destroyed: false };

/** A dispatcher that hands the exchange to `script` (synchronously, as a warm keep-alive connection may). */
function dispatcher(script: (handler: UpstreamHandler, request: UpstreamRequest) => void): UpstreamDispatcher {
  return {
    dispatch: (upstreamRequest, handler) => script(handler, upstreamRequest),
    close: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
  };
}

function run(res: RecordingResponse, script: (handler: UpstreamHandler) => void): ForwardResult[] {
  const results: ForwardResult[] = [];
  const req = { req: request, res, path: '/', headers: ['host', 'a.test'], hasBody: false, closeConnection: () => false };
  forward(dispatcher(script), req, (result) => results.push(result));
  return results;
}

describe('forward', () => {
  it('relays a complete response, and no longer listens for the client leaving once it ends the response', () => {
    const res = new RecordingResponse();
    const results = run(res, (h) => {
      h.onConnect(() => assert.fail('not aborted'));
      h.onHeaders(200, ['content-length', '2'], () => undefined);
      h.onComplete(Buffer.from('ok'));
    });
    assert.equal(res.statusCode, 200);
    assert.equal(Buffer.concat(res.written).toString(), 'ok');
    // A listener left on while ending would make the fast lane queue a `close` tick per request for nothing.
    assert.equal(res.closeListenersAtEnd, 0);
    assert.equal(res.listenerCount('close'), 0);
    assert.equal(results.length, 1);
    assert.equal(results[0]?.error, null);
    assert.equal(results[0]?.status, 200);
  });

  it('aborts the upstream exchange when the client leaves before the response is complete', () => {
    const res = new RecordingResponse();
    let handler: UpstreamHandler | undefined;
    let aborted: Error | undefined;
    const results = run(res, (h) => {
      handler = h;
      h.onConnect((reason) => {
        aborted = reason;
        h.onError(reason);
      });
      h.onHeaders(200, ['content-length', '10'], () => undefined);
      h.onData(Buffer.from('01234'));
    });
    assert.ok(handler !== undefined);
    res.emit('close');
    assert.equal((aborted as { code?: string } | undefined)?.code, 'CLIENT_ABORTED');
    assert.equal(results.length, 1);
    assert.equal(results[0]?.clientAborted, true);
    assert.equal(res.destroyed, true, 'the response already started: it is cut, not completed');
  });
});
