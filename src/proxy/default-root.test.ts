import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absoluteLocation, parseReturn, returnAnswer, type ReturnVariables } from './default-root.ts';
import { isInternalAddress } from './network-access.ts';

const VARS: ReturnVariables = {
  host: 'app.test',
  requestUri: '/x/y?q=1',
  path: '/x/y',
  args: 'q=1',
  scheme: 'http',
  serverPort: 8080,
  clientAddress: '192.0.2.7',
  rawHeaders: ['X-Tag', 't1'],
};

function answer(value: string): { status: number; body: string; location: string | undefined; code: string } {
  const directive = parseReturn(value);
  assert.ok(directive);
  const a = returnAnswer(directive, VARS);
  return { status: a.status, body: a.body, location: a.location, code: a.code };
}

describe('DEFAULT_ROOT (nginx return)', () => {
  it('answers a bare status', () => {
    assert.deepEqual(answer('404'), { status: 404, body: '404 Not Found\n', location: undefined, code: 'DEFAULT_ROOT' });
    assert.equal(answer('204').body, '');
  });
  it('answers a status with text, variables evaluated, nginx quotes removed', () => {
    assert.equal(answer('418 teapot at $host$request_uri').body, 'teapot at app.test/x/y?q=1');
    assert.equal(answer('200 "ok $remote_addr $http_x_tag"').body, 'ok 192.0.2.7 t1');
  });
  it('redirects with variables, making a relative URL absolute with the non-standard port', () => {
    assert.equal(answer('301 http://$host/web1$request_uri').location, 'http://app.test/web1/x/y?q=1');
    assert.equal(answer('302 /login$is_args$args').location, 'http://app.test:8080/login?q=1');
    assert.equal(absoluteLocation('/a', 'http', 'h', 80), 'http://h/a');
  });
  it('parses none as no answer', () => {
    assert.equal(parseReturn(undefined), undefined);
  });
});

describe('NETWORK_ACCESS=internal ranges', () => {
  for (const a of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '::1', 'fc00::1', 'fd12:3456::1']) {
    it(`${a} is internal`, () => assert.equal(isInternalAddress(a), true));
  }
  for (const a of ['8.8.8.8', '172.15.0.1', '172.32.0.1', '192.169.0.1', '::2', 'fe80::1', '2001:db8::1', '']) {
    it(`${a} is external`, () => assert.equal(isInternalAddress(a), false));
  }
});
