import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseDuration } from './config.ts';
import { BerthError } from './errors.ts';

const noSocket = (): boolean => false;

describe('loadConfig', () => {
  it('has nginx-proxy defaults', () => {
    const c = loadConfig({}, noSocket);
    assert.equal(c.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(c.httpPort, 80);
    assert.equal(c.httpsPort, 443);
    assert.equal(c.trustDownstreamProxy, true);
    assert.equal(c.mode, 'node');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.debounceMinMs, 100);
    assert.equal(c.debounceMaxMs, 500);
    assert.equal(c.defaultHost, undefined);
    assert.ok(Object.isFrozen(c));
  });

  it('prefers /tmp/docker.sock when it is mounted', () => {
    assert.equal(loadConfig({}, (p) => p === '/tmp/docker.sock').dockerHost, 'unix:///tmp/docker.sock');
  });

  it('reads every setting', () => {
    const c = loadConfig(
      {
        DOCKER_HOST: 'tcp://127.0.0.1:2375', HTTP_PORT: '8080', HTTPS_PORT: '8443', DEFAULT_HOST: 'App.Example',
        TRUST_DOWNSTREAM_PROXY: 'false', BERTH_MODE: 'NGINX', LOG_LEVEL: 'debug', BERTH_DEBOUNCE_MIN: '20ms',
        BERTH_DEBOUNCE_MAX: '1s', BERTH_RESYNC_INTERVAL: '1m', BERTH_SHUTDOWN_TIMEOUT: '3s',
      },
      noSocket,
    );
    assert.equal(c.dockerHost, 'tcp://127.0.0.1:2375');
    assert.equal(c.httpPort, 8080);
    assert.equal(c.httpsPort, 8443);
    assert.equal(c.defaultHost, 'app.example');
    assert.equal(c.trustDownstreamProxy, false);
    assert.equal(c.mode, 'nginx');
    assert.equal(c.debounceMinMs, 20);
    assert.equal(c.debounceMaxMs, 1000);
    assert.equal(c.resyncIntervalMs, 60_000);
    assert.equal(c.shutdownTimeoutMs, 3000);
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['HTTP_PORT', 'eighty', /HTTP_PORT="eighty" is invalid: expected a port number/],
    ['HTTP_PORT', '70000', /HTTP_PORT="70000"/],
    ['BERTH_MODE', 'traefik', /BERTH_MODE="traefik" is invalid: expected one of node, nginx/],
    ['TRUST_DOWNSTREAM_PROXY', 'maybe', /TRUST_DOWNSTREAM_PROXY="maybe" is invalid: expected one of true/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['DOCKER_HOST', 'ssh://host', /DOCKER_HOST="ssh:\/\/host" is invalid: expected unix:\/\/\/path/],
    ['DEFAULT_HOST', 'a;b', /DEFAULT_HOST="a;b"/],
    ['BERTH_DEBOUNCE_MIN', 'soon', /BERTH_DEBOUNCE_MIN="soon" is invalid: expected a duration/],
    ['BERTH_DEBOUNCE_MAX', '10ms', /BERTH_DEBOUNCE_MAX="10ms" is invalid: expected a duration not below BERTH_DEBOUNCE_MIN/],
  ];
  for (const [name, value, message] of invalid) {
    it(`rejects ${name}=${value} with ERR_CONFIG_INVALID naming variable, value and what is accepted`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }, noSocket),
        (err: unknown) => err instanceof BerthError && err.code === 'ERR_CONFIG_INVALID' && message.test(err.message),
      );
    });
  }
});

describe('parseDuration', () => {
  const cases: Array<[string, number | undefined]> = [['250', 250], ['250ms', 250], ['1.5s', 1500], ['2m', 120_000], ['x', undefined], ['-1s', undefined]];
  for (const [input, expected] of cases) it(input, () => assert.equal(parseDuration(input), expected));
});
