import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { BerthError } from '../errors.ts';

/**
 * Runs nginx in the foreground as berth's child (`-g 'daemon off;'`), pipes its stderr into the logger, restarts
 * it with backoff when it dies, and stops it gracefully (SIGQUIT, then SIGTERM, then SIGKILL).
 *
 * nginx runs in its own process group (detached = setsid): when the master dies by SIGKILL its workers are
 * orphaned but keep the listening socket open (nginx workers do not exit when the master's channel closes), so a
 * new master could not bind. The group lets berth tell those orphans to finish (SIGQUIT) before restarting.
 */

export interface SupervisorOptions {
  readonly binary: string;
  readonly stateDir: string;
  readonly mainConf: string;
  readonly pidFile: string;
  /** Where readiness is probed (TCP connect). */
  readonly probeHost: string;
  readonly probePort: number;
  readonly logger: Logger;
  /** nginx's stdout carries access logs: pass them through to berth's stdout, or drop them. */
  readonly stdout: 'inherit' | 'ignore';
  readonly startTimeoutMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

const NGINX_LEVELS: Record<string, 'error' | 'warn' | 'info' | 'debug'> = {
  emerg: 'error',
  alert: 'error',
  crit: 'error',
  error: 'error',
  warn: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
};

/** `2026/11/25 19:43:54 [emerg] 12#12: message` -> level + message; anything else is logged at warn. */
function logNginxLine(logger: Logger, line: string): void {
  const m = /^(?:\S+ \S+ )?\[(\w+)\] (?:\d+#\d+: )?(?:\*\d+ )?(.*)$/.exec(line);
  const level = (m?.[1] !== undefined ? NGINX_LEVELS[m[1]] : undefined) ?? 'warn';
  logger[level]({ nginxLevel: m?.[1] }, m?.[2] ?? line);
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Where to probe nginx's HTTP port: the listen address, loopback for a wildcard. */
export function probeHost(listenAddress: string | undefined): string {
  if (listenAddress === undefined || listenAddress === '0.0.0.0' || listenAddress === '*') return '127.0.0.1';
  if (listenAddress === '::') return '::1';
  return listenAddress;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pids of the master's children (its workers), from Linux's /proc; undefined where that file is unavailable. */
async function workerPids(master: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${master}/task/${master}/children`, 'utf8').catch(() => undefined);
  return text?.trim().split(/\s+/).filter((p) => p !== '');
}

export class NginxSupervisor {
  private readonly options: SupervisorOptions;
  private readonly log: Logger;
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Set once the first start succeeded: only then does a dying nginx get restarted. */
  private supervising = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private startedAt = 0;
  private readonly onProcessExit = (): void => this.killGroup('SIGKILL');

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.log = options.logger;
    this.backoffMs = options.backoffInitialMs ?? 100;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns nginx; resolves once it accepts connections, rejects with ERR_NGINX_FAILED otherwise. */
  async start(): Promise<void> {
    process.once('exit', this.onProcessExit);
    await this.spawnAndWait();
    this.supervising = true;
  }

  /**
   * Asks the running master to reload its config (SIGHUP) and waits until it started new workers, i.e. the new
   * config answers new connections. Resolves false when nginx did not (a failed reload keeps the old config; its
   * own error is in the log). A no-op while nginx is being restarted: the restart reads the latest config.
   */
  async reload(timeoutMs = 5000): Promise<boolean> {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null || this.child.signalCode !== null) return false;
    const before = await workerPids(pid);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      this.log.warn({ err }, 'could not signal nginx to reload');
      return false;
    }
    if (before === undefined) return true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const now = await workerPids(pid);
      if (now === undefined) return true;
      if (now.some((p) => !before.includes(p))) {
        await this.untilOldWorkersStopAccepting(before, deadline);
        return true;
      }
      await delay(20);
    }
    this.log.warn({ timeoutMs }, 'nginx started no new workers after the reload signal; it may still run the previous config');
    return false;
  }

  /**
   * New workers exist, but until the old ones got the master's QUIT they still accept connections on the old config
   * (a draining backend would still get new requests). An old worker that got it closes its listeners and renames
   * itself `worker process is shutting down` (requests in flight finish there). Bounded by the reload deadline.
   */
  private async untilOldWorkersStopAccepting(old: readonly string[], deadline: number): Promise<void> {
    const accepting = async (p: string): Promise<boolean> => {
      const title = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
      return title !== '' && !title.includes('shutting down');
    };
    while (Date.now() < deadline) {
      const still = await Promise.all(old.map(accepting));
      if (!still.includes(true)) return;
      await delay(10);
    }
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    process.removeListener('exit', this.onProcessExit);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The grace timer is cleared once nginx exited, or it would keep berth alive for graceMs after shutdown.
    const within = (ms: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
      return Promise.race([exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
    };
    // SIGQUIT: graceful shutdown, in-flight requests finish.
    this.signal(child, 'SIGQUIT');
    if (await within(graceMs)) return;
    this.log.warn({ graceMs }, 'nginx did not finish in-flight requests in time; sending SIGTERM');
    this.signal(child, 'SIGTERM');
    if (await within(1000)) return;
    this.killGroup('SIGKILL');
    await exited;
  }

  private signal(child: ChildProcess, sig: NodeJS.Signals): void {
    try {
      if (child.pid !== undefined) process.kill(child.pid, sig);
    } catch {
      // already gone
    }
  }

  private killGroup(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // no process left in the group
    }
  }

  private async spawnAndWait(): Promise<void> {
    const { binary, stateDir, mainConf, pidFile } = this.options;
    await rm(pidFile, { force: true });
    const child = spawn(binary, ['-e', 'stderr', '-p', stateDir, '-c', mainConf, '-g', 'daemon off;'], {
      detached: true,
      stdio: ['ignore', this.options.stdout, 'pipe'],
    });
    this.child = child;
    this.startedAt = Date.now();
    if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', (line) => logNginxLine(this.log, line));
    let exitInfo: string | undefined;
    child.once('error', (err) => {
      exitInfo = `cannot run ${binary}: ${err.message}`;
      this.onExit(child, exitInfo);
    });
    child.once('exit', (code, signal) => {
      exitInfo = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
      this.onExit(child, exitInfo);
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      if (exitInfo !== undefined) throw new BerthError('ERR_NGINX_FAILED', `nginx did not start: ${exitInfo}`);
      if (await this.isReady(child)) {
        this.log.info({ pid: child.pid, port: this.options.probePort }, 'nginx is accepting connections');
        return;
      }
      await delay(50);
    }
    this.signal(child, 'SIGKILL');
    throw new BerthError('ERR_NGINX_FAILED', `nginx did not accept connections on port ${this.options.probePort} within the start timeout`);
  }

  /** Ready = this child wrote its pid file (nginx does so after binding) and the port accepts connections. */
  private async isReady(child: ChildProcess): Promise<boolean> {
    const pid = await readFile(this.options.pidFile, 'utf8').catch(() => '');
    if (pid.trim() !== String(child.pid)) return false;
    return probe(this.options.probeHost, this.options.probePort);
  }

  private onExit(child: ChildProcess, info: string): void {
    if (child !== this.child || this.stopping || !this.supervising) return;
    // Orphaned workers keep the port: ask them to finish their requests and close it.
    this.killGroup('SIGQUIT');
    if (Date.now() - this.startedAt > 10_000) this.backoffMs = this.options.backoffInitialMs ?? 100;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs ?? 5_000);
    this.log.error({ code: 'ERR_NGINX_FAILED', reason: info, restartInMs: wait }, 'nginx died; restarting it');
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.spawnAndWait().catch((err: unknown) => {
        if (!this.stopping) this.log.error({ err, code: 'ERR_NGINX_FAILED' }, 'restarting nginx failed');
      });
    }, wait);
  }
}
