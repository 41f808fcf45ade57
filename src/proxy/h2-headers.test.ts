import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import { downstreamStreamHeaders, encodeGrpcMessage, grpcStatusForHttp, streamErrorHeaders, upstreamStreamHeaders } from './h2-headers.ts';
import { localAnswer, proxyError } from './responses.ts';

const CTX = { clientAddress: '10.0.0.9', host: 'grpc.test', localPort: 8080, forwardedPort: 443, requestUri: '/svc/M', trustDownstreamProxy: true, scheme: 'http' as const };

describe('upstreamStreamHeaders', () => {
  it('keeps pseudo-headers and metadata, sets the scheme, drops connection-specific fields', () => {
    const out = upstreamStreamHeaders(
      { ':method': 'POST', ':path': '/svc/M', ':scheme': 'https', ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers', 'x-md': 'v', connection: 'keep-alive', 'keep-alive': '5', upgrade: 'h2c', 'http2-settings': 'AAA' },
      CTX,
    );
    assert.deepEqual(out, {
      ':method': 'POST',
      ':path': '/svc/M',
      ':scheme': 'http',
      ':authority': 'grpc.test',
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-md': 'v',
      'x-real-ip': '10.0.0.9',
      'x-forwarded-for': '10.0.0.9',
      'x-forwarded-host': 'grpc.test',
      'x-forwarded-proto': 'http',
      'x-forwarded-ssl': 'off',
      'x-forwarded-port': '443',
      'x-original-uri': '/svc/M',
    });
  });

  it('drops TE other than trailers, takes :authority from Host when missing', () => {
    const out = upstreamStreamHeaders({ ':method': 'GET', ':path': '/', host: 'h.test', te: 'gzip' }, { ...CTX, scheme: 'https' });
    assert.equal(out.te, undefined);
    assert.equal(out.host, undefined);
    assert.equal(out[':authority'], 'h.test');
    assert.equal(out[':scheme'], 'https');
  });

  it('appends to X-Forwarded-For when trusting the downstream proxy, replaces it otherwise; X-Real-IP always replaced', () => {
    const incoming = { ':path': '/', 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '6.6.6.6' };
    assert.equal(upstreamStreamHeaders(incoming, CTX)['x-forwarded-for'], '198.51.100.1, 10.0.0.9');
    const untrusted = upstreamStreamHeaders(incoming, { ...CTX, trustDownstreamProxy: false });
    assert.equal(untrusted['x-forwarded-for'], '10.0.0.9');
    assert.equal(untrusted['x-real-ip'], '10.0.0.9');
  });

  it('never passes a client-sent X-Forwarded-Proto/Host/Port/Ssl or X-Original-URI through unless trusted', () => {
    const spoofed = {
      ':path': '/svc/M',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'admin.example',
      'x-forwarded-port': '443',
      'x-forwarded-ssl': 'on',
      'x-original-uri': '/fake',
      proxy: 'http://evil',
    };
    const untrusted = upstreamStreamHeaders(spoofed, { ...CTX, trustDownstreamProxy: false });
    assert.equal(untrusted['x-forwarded-proto'], 'http');
    assert.equal(untrusted['x-forwarded-host'], 'grpc.test');
    assert.equal(untrusted['x-forwarded-port'], '8080');
    assert.equal(untrusted['x-forwarded-ssl'], 'off');
    assert.equal(untrusted['x-original-uri'], '/svc/M');
    assert.equal(untrusted['proxy'], undefined);
    const trusted = upstreamStreamHeaders(spoofed, CTX);
    assert.equal(trusted['x-forwarded-proto'], 'https');
    assert.equal(trusted['x-forwarded-host'], 'admin.example');
    assert.equal(trusted['x-forwarded-port'], '443');
    assert.equal(trusted['x-forwarded-ssl'], 'on');
    assert.equal(trusted['x-original-uri'], '/svc/M');
  });
});

describe('downstreamStreamHeaders', () => {
  it('keeps :status and regular fields, drops other pseudo-headers and connection-specific fields', () => {
    const incoming = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0', connection: 'close', 'transfer-encoding': 'chunked' };
    assert.deepEqual(downstreamStreamHeaders(incoming as unknown as IncomingHttpHeaders), {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': '0',
    });
  });
});

describe('gRPC answers', () => {
  it('maps HTTP statuses as gRPC clients do', () => {
    assert.deepEqual([400, 401, 403, 404, 429, 502, 503, 504, 500].map(grpcStatusForHttp), [13, 16, 7, 12, 14, 14, 14, 14, 2]);
  });

  it('percent-encodes grpc-message', () => {
    assert.equal(encodeGrpcMessage('no route for "a" 100% é\n'), 'no route for "a" 100%25 %C3%A9%0A');
  });

  it('answers gRPC clients Trailers-Only, others with the HTTP status and a body length', () => {
    const error = proxyError('NO_READY_BACKEND', 'no backend ready for host "g.test"', 2);
    assert.deepEqual(streamErrorHeaders(error, true), {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': '14',
      'grpc-message': '503 Service Unavailable: no backend ready for host "g.test"',
      'x-berth-error': 'NO_READY_BACKEND',
      'retry-after': '2',
    });
    const plain = streamErrorHeaders(error, false);
    assert.equal(plain[':status'], 503);
    assert.equal(plain['content-length'], Buffer.byteLength(error.body));
  });

  it('sends the proxy own non-error answers as HTTP/1 does: Location, content type, latin1 length, no error mark', () => {
    const redirect = localAnswer('REDIRECT', 301, 'caf\xe9\n', { location: 'http://a.test/web/', latin1: true });
    assert.deepEqual(streamErrorHeaders(redirect, false), { ':status': 301, 'content-type': 'text/plain; charset=utf-8', 'content-length': 5, location: 'http://a.test/web/' });
    const debug = localAnswer('DEBUG', 200, '{}', { contentType: 'application/json' });
    assert.equal(streamErrorHeaders(debug, false)['content-type'], 'application/json');
  });
});
