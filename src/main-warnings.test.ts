import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { warnNginxOnlySettings } from './main.ts';

/** What the Node data plane says at start about nginx-only settings and snippets (never silently ignored). */

function recorder(): { logger: Logger; warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }) } as unknown as Logger;
  return { logger, warnings };
}

describe('warnNginxOnlySettings', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-warn-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dirs = { vhost: join(root, 'vhost.d'), conf: join(root, 'conf.d'), proxyConf: join(root, 'proxy.conf') };
  const env = (mode: string): Record<string, string> => ({ BERTH_MODE: mode, BERTH_VHOST_DIR: dirs.vhost, BERTH_CONF_DIR: dirs.conf, BERTH_PROXY_CONF: dirs.proxyConf, RESOLVERS: '127.0.0.11' });

  it('says nothing about snippets when there are none', () => {
    const { logger, warnings } = recorder();
    warnNginxOnlySettings(loadConfig(env('node'), () => false), logger);
    assert.deepEqual(warnings.map((w) => w.fields['setting']), ['RESOLVERS']);
  });

  it('names the snippet files the Node data plane does not read, once per setting', () => {
    mkdirSync(dirs.vhost, { recursive: true });
    mkdirSync(dirs.conf, { recursive: true });
    writeFileSync(join(dirs.vhost, 'app.example'), 'client_max_body_size 100m;\n');
    writeFileSync(join(dirs.vhost, 'default_location'), 'add_header X-A 1;\n');
    writeFileSync(join(dirs.vhost, '.hidden'), '');
    writeFileSync(join(dirs.conf, 'my.conf'), 'gzip on;\n');
    writeFileSync(join(dirs.conf, 'notes.txt'), 'not included by nginx either');
    writeFileSync(dirs.proxyConf, 'proxy_set_header X-B 2;\n');
    const { logger, warnings } = recorder();
    warnNginxOnlySettings(loadConfig(env('node'), () => false), logger);
    const snippets = warnings.filter((w) => w.fields['setting'] !== 'RESOLVERS');
    assert.deepEqual(
      snippets.map((w) => [w.fields['setting'], w.fields['files'], w.fields['code']]),
      [
        ['BERTH_VHOST_DIR', [join(dirs.vhost, 'app.example'), join(dirs.vhost, 'default_location')], 'WARN_SETTING_IGNORED'],
        ['BERTH_CONF_DIR', [join(dirs.conf, 'my.conf')], 'WARN_SETTING_IGNORED'],
        ['BERTH_PROXY_CONF', [dirs.proxyConf], 'WARN_SETTING_IGNORED'],
      ],
    );
    assert.match(snippets[0]?.msg ?? '', /only apply in the nginx data plane \(BERTH_MODE=nginx\)/);
  });

  it('says nothing in the nginx data plane, which applies them', () => {
    const { logger, warnings } = recorder();
    warnNginxOnlySettings(loadConfig(env('nginx'), () => false), logger);
    assert.deepEqual(warnings, []);
  });
});
