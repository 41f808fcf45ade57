import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './docker-cli.ts';
import { freePort } from '../support/free-port.ts';
export { freePort };

/**
 * berth as a black box: `node --import tsx src/cli.ts` from the repo root, JSON log lines (pino) captured from
 * stdout, stderr captured too. Ready when a line with `msg === 'berth ready'` appears.
 */

export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

export interface StartBerthOptions {
  readonly mode: 'node' | 'nginx';
  /** Added to (and overriding) the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
}

export interface BerthProcess {
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  /** Every JSON log line so far (non-JSON stdout lines appear as `{ msg: <line>, raw: true }`). */
  logs(): LogLine[];
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the first line (past or future) matching `pred`; rejects after timeoutMs with the logs. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code (128 + signal number if killed by a signal; SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };


function parseLine(line: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as LogLine;
  } catch {
    // fall through: not JSON
  }
  return { msg: line, raw: true };
}

/** The last `max` log lines and the stderr tail, for error messages. */
export function describeOutput(lines: readonly LogLine[], stderr: string, max = 60): string {
  const tail = lines.slice(-max).map((l) => JSON.stringify(l)).join('\n');
  return `--- berth stdout (last ${Math.min(max, lines.length)} of ${lines.length} lines) ---\n${tail}\n--- berth stderr ---\n${stderr.slice(-4000)}`;
}

/** Collects JSON log lines from a stream of chunks and resolves waiters as matching lines arrive. */
class LogCollector {
  readonly lines: LogLine[] = [];
  stderr = '';
  private buffered = '';
  private readonly waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  constructor(private readonly state: () => string) {}

  push(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const text = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (text === '') continue;
      const line = parseLine(text);
      this.lines.push(line);
      for (const w of this.waiters) {
        if (w.pred(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  }

  waitFor(pred: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const past = this.lines.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { pred, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const output = describeOutput(this.lines, this.stderr);
        reject(new Error(`no matching berth log line within ${timeoutMs} ms (berth ${this.state()})\n${output}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

function berthEnv(mode: string, port: number, stateDir: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const inherited: Record<string, string> = { ...(process.env as Record<string, string>) };
  // The runner's own settings must not leak into berth (node --test marks its children with NODE_TEST_CONTEXT).
  for (const key of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS']) delete inherited[key];
  return {
    ...inherited,
    DOCKER_HOST: 'unix:///var/run/docker.sock',
    HTTP_PORT: String(port),
    BERTH_MODE: mode,
    BERTH_STATE_DIR: stateDir,
    LOG_LEVEL: 'debug',
    // The harness parses JSON lines, whatever the caller's environment prefers.
    BERTH_LOG_FORMAT: 'json',
    BERTH_DEBOUNCE_MIN: '20ms',
    BERTH_DEBOUNCE_MAX: '100ms',
    // Keep the machine's own /etc/nginx out of the test: snippet and conf dirs live in the fresh state dir.
    BERTH_VHOST_DIR: join(stateDir, 'vhost.d'),
    BERTH_CONF_DIR: join(stateDir, 'conf.d'),
    BERTH_PROXY_CONF: join(stateDir, 'proxy.conf'),
    ...extra,
  };
}

export async function startBerth(options: StartBerthOptions): Promise<BerthProcess> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), `berth-e2e-${options.mode}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: REPO_ROOT,
    env: berthEnv(options.mode, port, stateDir, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exitCode: number | undefined;
  const log = new LogCollector(() => (exitCode === undefined ? 'still running' : `exited with ${exitCode}`));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log.stderr += chunk));
  child.on('error', (err) => (log.stderr += `spawn error: ${err.message}\n`));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve((exitCode = code ?? 128 + (SIGNALS[signal ?? ''] ?? 0))));
  });

  const stop = async (timeoutMs = 20_000): Promise<number> => {
    if (exitCode === undefined) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    rmSync(stateDir, { recursive: true, force: true });
    return code;
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const ready = await Promise.race([
    log.waitFor((l) => l.msg === 'berth ready', readyTimeoutMs).then(() => 'ready' as const),
    exited.then((code) => `berth exited with code ${code} before it was ready`),
  ]).catch(() => `no 'berth ready' log line within ${readyTimeoutMs} ms`);
  if (ready !== 'ready') {
    await stop(2000);
    throw new Error(`startBerth(${options.mode}) failed: ${ready}\n${describeOutput(log.lines, log.stderr)}`);
  }
  return {
    port,
    pid: child.pid ?? 0,
    stateDir,
    logs: () => [...log.lines],
    stderr: () => log.stderr,
    waitForLog: (pred, timeoutMs = 10_000) => log.waitFor(pred, timeoutMs),
    stop,
  };
}

export type Mode = 'node' | 'nginx';

/** The data planes an e2e file runs against: BERTH_E2E_MODES=node,nginx (the default) selects them. */
export function e2eModes(): Mode[] {
  const modes = (process.env['BERTH_E2E_MODES'] ?? 'node,nginx').split(',').map((m) => m.trim()).filter((m) => m !== '');
  for (const m of modes) {
    if (m !== 'node' && m !== 'nginx') throw new Error(`BERTH_E2E_MODES: unknown mode ${m} (node, nginx)`);
  }
  return modes as Mode[];
}
