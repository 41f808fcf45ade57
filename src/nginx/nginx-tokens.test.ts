import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { config } from '../../test/fixtures/nginx/scenario-helpers.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { DEBUG_PATHS_STRIPPED, debugDocument } from '../proxy/debug-endpoint.ts';
import { debugReturnToken } from './debug-endpoint.ts';
import { listenAddresses, listenArgs } from './listen-plan.ts';
import { isRequestVariable, literalToken, regexToken, returnArgsToken, variableTextToken, type Token } from './nginx-tokens.ts';
import { loadBalanceToken } from './upstream-model.ts';

const token = (t: Token | undefined): string | undefined => (t?.ok ? t.token : undefined);

describe('nginx tokens that may hold $', () => {
  it('regexes are quoted with \\ and " escaped; $ stays an anchor; control characters are refused', () => {
    assert.equal(token(regexToken('~^re(\\d{1,3})\\.test$')), '"~^re(\\\\d{1,3})\\\\.test$"');
    assert.equal(token(regexToken('^/say"hi"$')), `'^/say"hi"$'`);
    assert.equal(regexToken('^a\nb$').ok, false);
    assert.equal(regexToken('  ').ok, false);
  });

  it('literal text: every $ becomes ${berth_dollar}', () => {
    assert.equal(token(literalToken('Restricted a.test~ ^/x$')), '"Restricted a.test~ ^/x${berth_dollar}"');
  });

  it('variable text: known variables pass, unknown ones and a bare $ are refused', () => {
    assert.equal(token(variableTextToken('$remote_addr${http_x_user}', isRequestVariable)), '"$remote_addr${http_x_user}"');
    assert.equal(token(variableTextToken('$remote_addr$arg_id', isRequestVariable)), '$remote_addr$arg_id');
    assert.match(String((variableTextToken('$upstream_addr', isRequestVariable) as { reason?: string }).reason), /upstream_addr/);
    assert.equal(variableTextToken('$nope', isRequestVariable).ok, false);
    assert.equal(variableTextToken('cost: 5$', () => true).ok, false);
  });

  it('DEFAULT_ROOT as return arguments: status, text, URL with the documented variables only', () => {
    assert.equal(token(returnArgsToken('404')), '404');
    assert.equal(token(returnArgsToken('301 http://$host/web1$request_uri')), '301 http://$host/web1$request_uri');
    assert.equal(token(returnArgsToken(`418 I'm a teapot`)), `418 "I'm a teapot"`);
    assert.equal(token(returnArgsToken('302 https://${host}$is_args$args')), '302 "https://${host}$is_args$args"');
    assert.equal(returnArgsToken('302 https://$http_host/').ok, false);
    assert.equal(returnArgsToken('302 http://x/\ny').ok, false);
  });

  it('loadbalance labels as upstream directives', () => {
    assert.equal(loadBalanceToken({ kind: 'round-robin' }), undefined);
    assert.equal(token(loadBalanceToken({ kind: 'least_conn' })), 'least_conn');
    assert.equal(token(loadBalanceToken({ kind: 'ip_hash' })), 'ip_hash');
    assert.equal(token(loadBalanceToken({ kind: 'random', two: true })), 'random two least_conn');
    assert.equal(token(loadBalanceToken({ kind: 'random', two: false })), 'random');
    assert.equal(token(loadBalanceToken({ kind: 'hash', key: '$request_uri', consistent: true })), 'hash $request_uri consistent');
    assert.equal(loadBalanceToken({ kind: 'hash', key: '$x;evil', consistent: false })?.ok, false);
  });
});

describe('listen arguments', () => {
  const c = (listenAddress: string | undefined, enableIpv6: boolean) => ({ listenAddress, enableIpv6 });
  it('IPv6 twins: [::] for all addresses, [::1] for loopback, none for an IPv6 address', () => {
    assert.deepEqual(listenAddresses(80, c(undefined, false)), ['80']);
    assert.deepEqual(listenAddresses(80, c(undefined, true)), ['80', '[::]:80']);
    assert.deepEqual(listenAddresses(80, c('127.0.0.1', true)), ['127.0.0.1:80', '[::1]:80']);
    assert.deepEqual(listenAddresses(80, c('::1', true)), ['[::1]:80']);
  });
  it('flags on every listen of the port', () => {
    assert.deepEqual(listenArgs(8080, c(undefined, true), { http2: true, proxyProtocol: true, defaultServer: true }), [
      '8080 http2 proxy_protocol default_server',
      '[::]:8080 http2 proxy_protocol default_server',
    ]);
  });
});

describe('debug endpoint token', () => {
  const host = newVirtualHost({ hostname: 'a.test', routes: [newRoute({ path: '/', upstreams: [] })] });

  it('escapes \\ and \', writes $ as ${berth_dollar} and the request fields as nginx variables', () => {
    const t = debugReturnToken(config({ LOG_FORMAT: `it's $status \\ done` }), host) ?? '';
    assert.match(t, /^200 '/);
    assert.match(t, /"log_format":"it\\'s \$\{berth_dollar\}status \\\\\\\\ done"/);
    assert.match(t, /"host":"\$\{berth_debug_host\}"/);
    assert.match(t, /"http3":""/);
    assert.match(t, /\\n'$/);
  });

  it('strips the paths when the escaped document would not fit in one nginx token', () => {
    const c = config({ LOG_FORMAT: Array.from({ length: 100 }, () => '$status').join(' ') });
    const routes = [];
    for (let i = 0; JSON.stringify(debugDocument(c, { ...host, routes }, request, 'v')).length < 3500; i++) {
      routes.push(newRoute({ path: `/path/${i}/`, upstreams: [] }));
    }
    assert.ok(JSON.stringify(debugDocument(c, { ...host, routes }, request, 'v')).length <= 4000, 'the document itself is not stripped');
    const t = debugReturnToken(c, { ...host, routes }) ?? '';
    assert.ok(t.length > 0 && t.length <= 4000, String(t.length));
    assert.ok(t.includes(DEBUG_PATHS_STRIPPED));
    assert.ok(!t.includes('/path/0/'));
  });
});

const request = { host: 'h', https: '', http2: '', http3: '', ssl_cipher: '', ssl_protocol: '' };
