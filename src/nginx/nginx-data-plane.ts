import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { BerthError, errorMessage } from '../errors.ts';
import type { ReadinessTracker } from '../readiness/index.ts';
import type { PlaneIssue, RoutingTable } from '../routing-table.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { checkNginxConfig } from './nginx-check.ts';
import { explainCandidateFailure, type CandidateFailure } from './candidate-failure.ts';
import { htpasswdDir, networkInternalPath } from './nginx-model.ts';
import { NginxSupervisor, probeHost } from './nginx-supervisor.ts';
import { RejectedHosts, retryWithout } from './rejected-hosts.ts';
import { DEFAULT_ACCESS_LOG, renderMainConfig, renderNginxConfig, type RenderResult } from './render-nginx-config.ts';
import { planSnippets, pruneSnapshots, writeSnapshot, type PlannedSnapshot, type SnippetSnapshot } from './snippet-snapshot.ts';
import { defaultAccessLog } from './default-access-log.ts';
import { planeIssues } from './dropped.ts';
import { statePaths } from './state-paths.ts';
import { watchOverrides, type OverrideWatcher } from '../watch-files.ts';
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
  private readonly rejected = new RejectedHosts();
  private planeIssues: readonly PlaneIssue[] = [];

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

  issues(): readonly PlaneIssue[] {
    return this.planeIssues;
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
    // Hosts nginx -t rejects (a regex PCRE refuses...) are left out and the rest applied: at most 3 such rounds.
    for (let round = 0; round < 3; round++) {
      const { table: kept, dropped } = this.rejected.filter(table);
      const rendered = await this.render(kept);
      if (rendered === undefined) return;
      const { result, planned } = rendered;
      for (const d of [...dropped, ...result.dropped]) {
        this.log.warn({ code: d.code ?? 'ERR_NGINX_CONFIG_INVALID', container: d.containerName, host: d.host, setting: d.setting, value: d.value }, d.message);
      }
      this.planeIssues = planeIssues([...dropped, ...result.dropped]);
      if (!force && result.text === this.liveText && planned?.snapshot.dir === this.liveSnapshot) {
        this.log.debug('nginx config unchanged; nothing to do');
        return;
      }
      const failure = await (planned === undefined ? this.applyExternal(result) : this.applyLocal(result, planned));
      if (failure === undefined) return;
      const retry = retryWithout(failure.culprit, result.templates.overridden, kept);
      if (retry === undefined || round === 2) return this.logRejection(failure, result);
      this.log.warn({ code: 'ERR_NGINX_CONFIG_INVALID', nginxError: failure.nginxError, ...failure.culprit }, `nginx rejected host ${retry.join(', ')}; applying the config without it`);
      this.rejected.add(kept, retry, failure.nginxError);
    }
  }

  /** Renders `table` (planning the snippet snapshot first in local mode); undefined when templates fail. */
  private async render(table: RoutingTable): Promise<{ result: RenderResult; planned: PlannedSnapshot | undefined } | undefined> {
    try {
      const planned = this.nginx.external ? undefined : await planSnippets(table, this.config, this.accessLog, this.paths.snippets);
      const includePath = planned?.snapshot.includePath;
      const result = await renderNginxConfig(table, this.config, {
        accessLog: this.accessLog,
        isReady: (u) => this.readiness.isReady(u),
        ...(includePath ? { includePath } : {}),
      });
      return { result, planned };
    } catch (err) {
      const code = err instanceof BerthError ? err.code : 'ERR_TEMPLATE_INVALID';
      this.log.error({ code, err: errorMessage(err) }, 'rendering the nginx config failed; the last good config stays live');
      return undefined;
    }
  }

  /** Validates the candidate with `nginx -t`; on failure deletes it and says why (logging is the caller's). */
  private async validate(result: RenderResult, snapshot?: SnippetSnapshot): Promise<true | 'skipped' | CandidateFailure | undefined> {
    const check = await checkNginxConfig(this.nginx.binary, this.nginx.stateDir, this.paths.candidateMain);
    if (check.ok) return true;
    if (check.binaryMissing && this.nginx.external) return 'skipped';
    if (check.binaryMissing) {
      this.lastFailure = check.output;
      this.log.error({ code: 'ERR_NGINX_FAILED', binary: this.nginx.binary }, check.output);
      return undefined;
    }
    // A config that fails `nginx -t` never stays on disk (deleted before anyone hears about it).
    await rm(this.paths.candidateDir, { recursive: true, force: true });
    const snippetRoots = [this.paths.snippets, this.nginx.vhostDir, this.nginx.confDir, this.nginx.proxyConf, networkInternalPath(this.config)];
    return explainCandidateFailure({ output: check.output, candidateGenerated: this.paths.candidateGenerated, result, snippetRoots, snapshot });
  }

  private logRejection(failure: CandidateFailure, result: RenderResult): void {
    this.lastFailure = failure.nginxError;
    this.log.error(
      { code: 'ERR_NGINX_CONFIG_INVALID', nginxError: failure.nginxError, ...failure.culprit, customTemplates: result.templates.overridden },
      `nginx rejected the new config${failure.where}; the last good config stays live`,
    );
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

  /** Returns why nginx -t refused the candidate, if it did (and could say). */
  private async applyLocal(result: RenderResult, planned: PlannedSnapshot): Promise<CandidateFailure | undefined> {
    const { paths, nginx } = this;
    const { snapshot } = planned;
    await writeSnapshot(planned);
    const main = renderMainConfig(result.templates, { stateDir: nginx.stateDir, generatedConf: paths.generated, confDir: snapshot.confDir });
    await this.writeCandidate(result, snapshot.confDir);
    const ok = await this.validate(result, snapshot);
    if (ok !== true) {
      await rm(paths.candidateDir, { recursive: true, force: true });
      if (snapshot.dir !== this.liveSnapshot) await rm(snapshot.dir, { recursive: true, force: true });
      return ok === 'skipped' ? undefined : ok;
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
    return undefined;
  }

  private async applyExternal(result: RenderResult): Promise<CandidateFailure | undefined> {
    const outputFile = this.nginx.outputFile;
    if (outputFile === undefined) throw new BerthError('ERR_CONFIG_INVALID', 'BERTH_NGINX_OUTPUT is required in external mode');
    // The wrapper includes only the candidate: the external nginx's own conf.d is not berth's to include.
    await this.writeCandidate(result, undefined);
    const ok = await this.validate(result);
    await rm(this.paths.candidateDir, { recursive: true, force: true });
    if (ok !== true && ok !== 'skipped') return ok;
    if (ok === 'skipped' && !this.skipValidationWarned) {
      this.skipValidationWarned = true;
      this.log.warn({ binary: this.nginx.binary }, 'no nginx binary to validate with: writing the config unvalidated');
    }
    await writeFileAtomic(outputFile, result.text);
    this.liveText = result.text;
    this.log.info({ hosts: result.model.servers.length, bytes: result.text.length, file: outputFile }, 'nginx config written');
    if (this.options.notifyExternal === undefined) return undefined;
    try {
      await this.options.notifyExternal();
    } catch (err) {
      this.log.error({ err, code: 'ERR_NGINX_FAILED' }, 'signalling the external nginx to reload failed');
    }
    return undefined;
  }

  private startWatching(): void {
    const { nginx } = this;
    this.watcher = watchOverrides({
      // htpasswd files are read by nginx per request: only their existence (auth on or off) needs a re-render.
      paths: [nginx.vhostDir, nginx.confDir, nginx.proxyConf, networkInternalPath(this.config), htpasswdDir(this.config), ...(nginx.templateDir === undefined ? [] : [nginx.templateDir])],
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
