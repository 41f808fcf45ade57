import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_DIR, RENDER_SCENARIOS, type RenderScenario } from '../../test/fixtures/nginx/scenarios.ts';
import { loadConfig } from '../config.ts';
import type { Upstream } from '../routing-table.ts';
import { checkNginxConfig } from './nginx-check.ts';
import { renderMainConfig, renderNginxConfig } from './render-nginx-config.ts';

const NGINX = '/usr/sbin/nginx';

const readyIn =
  (scenario: RenderScenario) =>
  (u: Upstream): boolean =>
    !(scenario.notReady ?? []).includes(u.containerName);

/** Writes a rendered config (and the main config around it) into `dir` and asserts that `nginx -t` accepts it. */
async function assertNginxAccepts(dir: string, name: string, result: Awaited<ReturnType<typeof renderNginxConfig>>): Promise<void> {
  await writeFile(join(dir, 'gen.conf'), result.text);
  await writeFile(join(dir, 'main.conf'), renderMainConfig(result.templates, { stateDir: dir, generatedConf: join(dir, 'gen.conf'), confDir: undefined }));
  const check = await checkNginxConfig(NGINX, dir, join(dir, 'main.conf'));
  assert.ok(check.ok, `${name}: ${check.output}`);
}

describe('renderNginxConfig', () => {
  for (const scenario of RENDER_SCENARIOS) {
    it(`renders the expected config: ${scenario.name}`, async () => {
      const result = await renderNginxConfig(scenario.table, scenario.config, { exists: (p) => scenario.existing.includes(p), isReady: readyIn(scenario) });
      const expected = await readFile(join(FIXTURE_DIR, `${scenario.name}.conf`), 'utf8');
      assert.equal(result.text, expected);
      assert.deepEqual(result.dropped.map((d) => d.containerName).sort(), [...scenario.dropped].sort());
    });
  }

  it('is deterministic: rendering twice gives identical bytes', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'two-replicas');
    assert.ok(s);
    const a = await renderNginxConfig(s.table, s.config, { exists: () => false });
    const b = await renderNginxConfig(s.table, s.config, { exists: () => false });
    assert.equal(a.text, b.text);
  });

  it('names container, setting and value of every dropped container, and keeps the other hosts', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'unsafe-value-dropped');
    assert.ok(s);
    const result = await renderNginxConfig(s.table, s.config, { exists: () => false });
    const evil = result.dropped.find((d) => d.containerName === 'evil-1');
    assert.ok(evil);
    assert.equal(evil.setting, 'VIRTUAL_HOST');
    assert.match(evil.message, /evil-1.*VIRTUAL_HOST.*evil\.test;include \/etc\/passwd/);
    assert.match(result.text, /server_name app\.example\.test;/);
    assert.match(result.text, /server 172\.17\.0\.5:80 /);
    assert.doesNotMatch(result.text, /passwd|1\.2\.3\.4|return 200/);
  });

  it('puts an upstream with no reachable backend down (502), never an empty upstream', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'no-reachable-backend');
    assert.ok(s);
    const { text } = await renderNginxConfig(s.table, s.config, { exists: () => false });
    assert.match(text, /upstream gone\.example\.test \{\n(?:.*\n)*?\s+server 127\.0\.0\.1 down;/);
  });

  it('leaves a not-ready backend out of its upstream; all not ready -> 503 + Retry-After, no backend -> 502', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'not-ready');
    assert.ok(s);
    const { text, model } = await renderNginxConfig(s.table, s.config, { exists: () => false, isReady: readyIn(s) });
    assert.match(text, /upstream app\.example\.test \{\n\s+# app-1\n\s+server 172\.17\.0\.2:80 max_fails=3 fail_timeout=3s;\n\s+# app-2: not ready/);
    assert.doesNotMatch(text, /172\.17\.0\.3|172\.17\.0\.7/);
    const byHost = new Map(model.servers.map((x) => [x.hostname, x.locations[0]?.unavailable]));
    assert.deepEqual(Object.fromEntries(byHost), { 'app.example.test': false, 'gone.example.test': false, 'starting.example.test': true });
    assert.match(text, /server_name starting\.example\.test;(?:.*\n)*?\s+add_header Retry-After 1 always;\n\s+return 503;/);
    assert.match(text, /upstream gone\.example\.test \{\n(?:.*\n)*?\s+server 127\.0\.0\.1 down;/);
  });

  it('without isReady every backend is admitted (nginx-proxy behaviour)', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'not-ready');
    assert.ok(s);
    const { text } = await renderNginxConfig(s.table, s.config, { exists: () => false });
    assert.match(text, /server 172\.17\.0\.3:80 max_fails/);
    assert.match(text, /server 172\.17\.0\.7:8080 max_fails/);
    assert.equal(text.match(/return 503;/g)?.length, 1, 'only the fallback server answers 503');
    assert.equal(text.match(/Retry-After/g), null);
  });

  it('with DEFAULT_HOST, that server is default_server and the fallback does not listen', async () => {
    const s = RENDER_SCENARIOS.find((x) => x.name === 'default-host');
    assert.ok(s);
    const { text } = await renderNginxConfig(s.table, s.config, { exists: () => false });
    assert.match(text, /server_name b\.example\.test;\n\s+listen 8080 default_server;/);
    assert.doesNotMatch(text, /server_name _;/);
  });

  it('reports a template that does not compile as ERR_TEMPLATE_INVALID naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-tpl-'));
    try {
      await writeFile(join(dir, 'server.eta'), 'server { <% if ( %> }');
      const config = loadConfig({ HTTP_PORT: '80', BERTH_TEMPLATE_DIR: dir }, () => false);
      await assert.rejects(renderNginxConfig({ hosts: [], issues: [] }, config), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_TEMPLATE_INVALID');
        assert.match(err.message, /server\.eta/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every scenario without snippet files passes nginx -t', { skip: !existsSync(NGINX) }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-t-'));
    await mkdir(join(dir, 'tmp'));
    try {
      for (const s of RENDER_SCENARIOS.filter((x) => x.existing.length === 0)) {
        const result = await renderNginxConfig(s.table, s.config, { exists: () => false, isReady: readyIn(s) });
        await assertNginxAccepts(dir, s.name, result);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every scenario with snippet files passes nginx -t (snippets written to a temp dir)', { skip: !existsSync(NGINX) }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ts-'));
    await mkdir(join(dir, 'tmp'));
    const copy = (source: string): string => join(dir, source.replace(/[/]/g, '_'));
    try {
      for (const s of RENDER_SCENARIOS.filter((x) => x.existing.length > 0)) {
        for (const source of s.existing) await writeFile(copy(source), source.endsWith('network_internal.conf') ? 'allow 127.0.0.1;\ndeny all;\n' : '# snippet\n');
        const result = await renderNginxConfig(s.table, s.config, { exists: (p) => s.existing.includes(p), includePath: copy });
        await assertNginxAccepts(dir, s.name, result);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
