import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { RoutingTable, Upstream } from '../routing-table.ts';
import { buildNginxModel, type DroppedContainer, type NginxModel } from './nginx-model.ts';
import { includeLiteral } from './escape.ts';
import { loadTemplateSet, renderTemplate, type TemplateSet } from './template-set.ts';

/** Where nginx's access log goes by default: nginx's stdout, which berth passes through to its own stdout. */
export const DEFAULT_ACCESS_LOG = '/dev/stdout';

export interface RenderOptions {
  /** Access log target of every server block; `off` disables access logs. */
  readonly accessLog?: string;
  /** Injectable for tests; defaults to fs.existsSync. */
  readonly exists?: (path: string) => boolean;
  /** Path written in `include` for an existing snippet file; defaults to the file itself. */
  readonly includePath?: (source: string) => string;
  /** Already loaded templates (the data plane loads them once per apply). */
  readonly templates?: TemplateSet;
  /** Whether a backend may receive new requests (ReadinessTracker.isReady); every backend when omitted. */
  readonly isReady?: (upstream: Upstream) => boolean;
}

export interface RenderResult {
  /** The generated config (http-level content, included from nginx.conf or the external nginx's conf.d). */
  readonly text: string;
  /** Containers left out because a value cannot be written safely; `message` names container, setting, value. */
  readonly dropped: readonly DroppedContainer[];
  readonly model: NginxModel;
  readonly templates: TemplateSet;
}

/**
 * RoutingTable -> nginx config text. Reads templates and checks which snippet files exist; writes nothing.
 * Throws ERR_TEMPLATE_INVALID when a template does not compile or render.
 */
export async function renderNginxConfig(table: RoutingTable, config: Config, options: RenderOptions = {}): Promise<RenderResult> {
  const templates = options.templates ?? (await loadTemplateSet(config.nginx.templateDir));
  const { model, dropped } = buildNginxModel(table, config, {
    accessLog: options.accessLog ?? DEFAULT_ACCESS_LOG,
    exists: options.exists ?? existsSync,
    ...(options.includePath === undefined ? {} : { includePath: options.includePath }),
    ...(options.isReady === undefined ? {} : { isReady: options.isReady }),
  });
  const text = renderTemplate(templates, 'default.conf', model);
  return { text, dropped, model, templates };
}

export interface MainConfigPaths {
  /** nginx prefix (`-p`): the state dir. */
  readonly stateDir: string;
  /** The generated config this main config includes. */
  readonly generatedConf: string;
  /** Directory whose `*.conf` is included at http level; undefined for the external-mode validation wrapper. */
  readonly confDir: string | undefined;
}

/** nginx's own main config (pid, error_log stderr, events, temp paths, http { include ... }). */
export function renderMainConfig(templates: TemplateSet, paths: MainConfigPaths): string {
  return renderTemplate(templates, 'nginx.conf', {
    stateDir: paths.stateDir,
    pidFile: join(paths.stateDir, 'nginx.pid'),
    temp: Object.fromEntries(['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => [t, join(paths.stateDir, 'tmp', t)])),
    generatedConf: includeLiteral(paths.generatedConf),
    confGlob: paths.confDir === undefined ? undefined : `${includeLiteral(paths.confDir)}/*.conf`,
  });
}
