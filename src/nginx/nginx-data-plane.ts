import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { BerthError, errorMessage } from '../errors.ts';
import type { ReadinessTracker } from '../readiness/index.ts';
import type { RoutingTable } from '../routing-table.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { checkNginxConfig } from './nginx-check.ts';
import { explainNginxError } from './explain-nginx-error.ts';
import { buildNginxModel } from './nginx-model.ts';
import { NginxSupervisor } from './nginx-supervisor.ts';
import { DEFAULT_ACCESS_LOG, renderMainConfig, renderNginxConfig, type RenderResult } from './render-nginx-config.ts';
import { planSnapshot, pruneSnapshots, writeSnapshot, type PlannedSnapshot, type SnippetSnapshot } from './snippet-snapshot.ts';
import { defaultAccessLog } from './default-access-log.ts';
import { statePaths } from './state-paths.ts';
import { watchOverrides, type OverrideWatcher } from './watch-overrides.ts';
import { watchReadiness, type ReadinessWatch } from './watch-readiness.ts';

export interface NginxDataPlaneOptions {
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Which backends may receive new requests. Only ready ones are rendered; a readiness change re-renders and
   * reloads (debounced by readinessDebounceMs) without waiting for a new table.
   */
  readonly readiness: ReadinessTracker;
  /** Readiness changes arriving within this window share one reload (default 50 ms). */
  readonly readinessDebounceMs?: number;
  /** Separate-containers mode: signals the external nginx container(s) to reload (SIGHUP via the Docker API). */
  readonly notifyExternal?: () => Promise<void>;
  /** Access log target (default /dev/stdout, i.e. berth's stdout); `off` disables. */
  readonly accessLog?: string;
  /** nginx's stdout (access logs): inherited by default. */
  readonly nginxStdout?: 'inherit' | 'ignore';
  /** Override-file watching: poll interval for paths that do not exist yet (default 1000 ms). */
  readonly watchPollMs?: number;
}

function probeHost(listenAddress: string | undefined): string {
  if (listenAddress === undefined || listenAddress === '0.0.0.0' || listenAddress === '*') return '127.0.0.1';
  if (listenAddress === '::') return '::1';
  return listenAddress;
}

export function createNginxDataPlane(options: NginxDataPlaneOptions): DataPlane {
  return new NginxDataPlane(options);
}

/**
 * apply: render -> skip if unchanged -> write candidate (tmp + rename) -> `nginx -t` on a candidate main config ->
 * move into place -> SIGHUP (or notifyExternal). A failing candidate is deleted and the last good config stays live.
 */
class NginxDataPlane implements DataPlane {
  readonly name = 'nginx';
  private readonly options: NginxDataPlaneOptions;
  private readonly config: Config;
  private readonly nginx: Config['nginx'];
  private readonly log: Logger;
  private readonly paths: ReturnType<typeof statePaths>;
  private readonly supervisor: NginxSupervisor;
  private readonly accessLog: string;
  private lastTable: RoutingTable | undefined;
  private liveText: string | undefined;
  private liveMain: string | undefined;
  private liveSnapshot: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watcher: OverrideWatcher | undefined;
  private skipValidationWarned = false;
  private running = false;
  /** Why the last candidate was refused (for start()'s error when nothing valid was ever applied). */
  private lastFailure: string | undefined;
  private readonly readiness: ReadinessTracker;
  private readonly readinessWatch: ReadinessWatch;
  /** A readiness re-render is queued and has not started: later changes ride along with it. */
  private refreshQueued = false;

  constructor(options: NginxDataPlaneOptions) {
    this.options = options;
    this.config = options.config;
    this.nginx = options.config.nginx;
    this.log = options.logger.child({ module: 'nginx' });
    this.paths = statePaths(this.nginx.stateDir);
    const stdout = options.nginxStdout ?? 'inherit';
    this.accessLog = options.accessLog ?? (this.nginx.external ? DEFAULT_ACCESS_LOG : defaultAccessLog(stdout, this.log));
    this.supervisor = new NginxSupervisor({
      binary: this.nginx.binary,
      stateDir: this.nginx.stateDir,
      mainConf: this.paths.mainConf,
      pidFile: this.paths.pidFile,
      probeHost: probeHost(this.config.listenAddress),
      probePort: this.config.httpPort,
      logger: this.log,
      stdout,
    });
    this.readiness = options.readiness;
    this.readinessWatch = watchReadiness(options.readiness, () => this.refresh(), options.readinessDebounceMs);
  }

  async apply(table: RoutingTable): Promise<void> {
    this.lastTable = table;
    // This render reads the tracker's current state: a pending readiness re-render would only repeat it. No debounce
    // here: the table published at a container's kill event must reach nginx at once.
    this.readinessWatch.cancelPending();
    await this.enqueue(table, false);
  }

  async start(): Promise<void> {
    await this.queue;
    if (this.nginx.external) {
      this.startWatching();
      return;
    }
    if (this.liveText === undefined) {
      // Only a config validated by this process is ever started (a stale one could crash-loop nginx).
      const onDisk = await readFile(this.paths.generated, 'utf8').catch(() => undefined);
      const stale = onDisk === undefined ? '' : ' (the stale one on disk from an earlier run is not used)';
      throw new BerthError('ERR_NGINX_FAILED', `no valid nginx config to start with${stale}: ${this.lastFailure ?? 'nothing was applied'}`);
    }
    const spawnedWith = this.liveText;
    await this.supervisor.start();
    this.running = true;
    // An apply that landed while nginx was starting did not signal it (SIGHUP before nginx installs its handlers
    // would kill it): reload now if the config changed meanwhile.
    if (this.liveText !== spawnedWith) await this.supervisor.reload();
    this.startWatching();
  }

  async stop(graceMs: number): Promise<void> {
    this.readinessWatch.close();
    await this.watcher?.close();
    this.watcher = undefined;
    this.running = false;
    await this.queue;
    await this.supervisor.stop(graceMs);
  }

  /** A readiness change re-renders the newest table (read when the render runs); one queued refresh at most. */
  private refresh(): void {
    if (this.lastTable === undefined || this.refreshQueued) return;
    this.refreshQueued = true;
    void this.enqueue(undefined, false).catch(() => undefined);
  }

  /** `table` undefined: the last table at the time the render runs. */
  private enqueue(table: RoutingTable | undefined, force: boolean): Promise<void> {
    const next = this.queue.then(() => {
      if (table === undefined) this.refreshQueued = false;
      const t = table ?? this.lastTable;
      return t === undefined ? undefined : this.applyOnce(t, force);
    });
    this.queue = next.catch((err: unknown) => this.log.error({ err, code: 'ERR_NGINX_FAILED' }, 'applying the nginx config failed'));
    return next;
  }

  private async applyOnce(table: RoutingTable, force: boolean): Promise<void> {
    let result: RenderResult;
    let planned: PlannedSnapshot | undefined;
    try {
      planned = this.nginx.external ? undefined : await this.planSnippets(table);
      const includePath = planned?.snapshot.includePath;
      result = await renderNginxConfig(table, this.config, {
        accessLog: this.accessLog,
        isReady: (u) => this.readiness.isReady(u),
        ...(includePath ? { includePath } : {}),
      });
    } catch (err) {
      const code = err instanceof BerthError ? err.code : 'ERR_TEMPLATE_INVALID';
      this.log.error({ code, err: errorMessage(err) }, 'rendering the nginx config failed; the last good config stays live');
      return;
    }
    for (const d of result.dropped) {
      this.log.warn({ code: 'ERR_NGINX_CONFIG_INVALID', container: d.containerName, host: d.host, setting: d.setting, value: d.value }, d.message);
    }
    if (!force && result.text === this.liveText && planned?.snapshot.dir === this.liveSnapshot) {
      this.log.debug('nginx config unchanged; nothing to do');
      return;
    }
    await (planned === undefined ? this.applyExternal(result) : this.applyLocal(result, planned));
  }

  /** Which snippet files this table includes (a cheap model pass), planned as a content-addressed snapshot. */
  private async planSnippets(table: RoutingTable): Promise<PlannedSnapshot> {
    const sources: string[] = [];
    buildNginxModel(table, this.config, {
      accessLog: this.accessLog,
      exists: existsSync,
      includePath: (source) => {
        sources.push(source);
        return source;
      },
    });
    return planSnapshot(this.paths.snippets, sources, this.nginx.proxyConf, this.nginx.confDir);
  }

  /** Validates the candidate with `nginx -t`; on failure deletes it and logs nginx's text + the culprits. */
  private async validate(result: RenderResult, snapshot?: SnippetSnapshot): Promise<boolean | 'skipped'> {
    const check = await checkNginxConfig(this.nginx.binary, this.nginx.stateDir, this.paths.candidateMain);
    if (check.ok) return true;
    if (check.binaryMissing && this.nginx.external) return 'skipped';
    if (check.binaryMissing) {
      this.lastFailure = check.output;
      this.log.error({ code: 'ERR_NGINX_FAILED', binary: this.nginx.binary }, check.output);
      return false;
    }
    // A config that fails `nginx -t` never stays on disk (deleted before anyone hears about it).
    await rm(this.paths.candidateDir, { recursive: true, force: true });
    const snippetRoots = [this.paths.snippets, this.nginx.vhostDir, this.nginx.confDir, this.nginx.proxyConf];
    const explained = explainNginxError(check.output, this.paths.candidateGenerated, result.text, result.model, snippetRoots);
    // Name the user's file, not berth's copy of it.
    const toSource = (text: string): string => (snapshot === undefined ? text : snapshot.toSourcePaths(text));
    const culprit = { ...explained, file: explained.file === undefined ? undefined : toSource(explained.file) };
    const nginxError = toSource(check.output);
    const where =
      culprit.kind === 'snippet'
        ? ` because of snippet ${culprit.file ?? ''}`
        : culprit.hosts.length > 0
          ? ` (host ${culprit.hosts.join(', ')})`
          : '';
    this.lastFailure = nginxError;
    this.log.error(
      { code: 'ERR_NGINX_CONFIG_INVALID', nginxError, ...culprit, customTemplates: result.templates.overridden },
      `nginx rejected the new config${where}; the last good config stays live`,
    );
    return false;
  }

  private async writeCandidate(result: RenderResult, confDir: string | undefined): Promise<void> {
    const candidateMain = renderMainConfig(result.templates, {
      stateDir: this.nginx.stateDir,
      generatedConf: this.paths.candidateGenerated,
      confDir,
    });
    await mkdir(this.paths.tempDir, { recursive: true });
    await writeFileAtomic(this.paths.candidateGenerated, result.text);
    await writeFileAtomic(this.paths.candidateMain, candidateMain);
  }

  private async applyLocal(result: RenderResult, planned: PlannedSnapshot): Promise<void> {
    const { paths, nginx } = this;
    const { snapshot } = planned;
    await writeSnapshot(planned);
    const main = renderMainConfig(result.templates, { stateDir: nginx.stateDir, generatedConf: paths.generated, confDir: snapshot.confDir });
    await this.writeCandidate(result, snapshot.confDir);
    const ok = await this.validate(result, snapshot);
    if (ok !== true) {
      await rm(paths.candidateDir, { recursive: true, force: true });
      if (snapshot.dir !== this.liveSnapshot) await rm(snapshot.dir, { recursive: true, force: true });
      return;
    }
    if (main !== this.liveMain) await writeFileAtomic(paths.mainConf, main);
    await rename(paths.candidateGenerated, paths.generated);
    await rm(paths.candidateDir, { recursive: true, force: true });
    this.liveText = result.text;
    this.liveMain = main;
    this.liveSnapshot = snapshot.dir;
    const reloaded = this.running ? await this.supervisor.reload() : false;
    // After the reload the master has parsed the new files; older snapshots are no longer referenced.
    await pruneSnapshots(paths.snippets, snapshot.dir);
    this.log.info({ hosts: result.model.servers.length, bytes: result.text.length, reloaded }, 'nginx config applied');
  }

  private async applyExternal(result: RenderResult): Promise<void> {
    const outputFile = this.nginx.outputFile;
    if (outputFile === undefined) throw new BerthError('ERR_CONFIG_INVALID', 'BERTH_NGINX_OUTPUT is required in external mode');
    // The wrapper includes only the candidate: the external nginx's own conf.d is not berth's to include.
    await this.writeCandidate(result, undefined);
    const ok = await this.validate(result);
    await rm(this.paths.candidateDir, { recursive: true, force: true });
    if (ok === false) return;
    if (ok === 'skipped' && !this.skipValidationWarned) {
      this.skipValidationWarned = true;
      this.log.warn({ binary: this.nginx.binary }, 'no nginx binary to validate with: writing the config unvalidated');
    }
    await writeFileAtomic(outputFile, result.text);
    this.liveText = result.text;
    this.log.info({ hosts: result.model.servers.length, bytes: result.text.length, file: outputFile }, 'nginx config written');
    if (this.options.notifyExternal === undefined) return;
    try {
      await this.options.notifyExternal();
    } catch (err) {
      this.log.error({ err, code: 'ERR_NGINX_FAILED' }, 'signalling the external nginx to reload failed');
    }
  }

  private startWatching(): void {
    const { nginx } = this;
    this.watcher = watchOverrides({
      paths: [nginx.vhostDir, nginx.confDir, nginx.proxyConf, ...(nginx.templateDir === undefined ? [] : [nginx.templateDir])],
      logger: this.log,
      ...(this.options.watchPollMs === undefined ? {} : { pollMs: this.options.watchPollMs }),
      onChange: () => {
        if (this.lastTable === undefined) return;
        this.log.info('snippets or templates changed; re-rendering');
        void this.enqueue(undefined, true).catch(() => undefined);
      },
    });
  }
}
