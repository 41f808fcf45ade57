import { execFile, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker, REPO_ROOT, RUN_ID, TEST_LABEL } from '../docker-cli.ts';
import { freePort } from '../../support/free-port.ts';
import type { CliResult, LogLine, Plane, ProxyUnderTest } from './types.ts';

/**
 * berth under test for the conformance table: a process on the host, or the berth:local image in a container.
 *
 * The process writes its stdout to a FILE, not to a pipe: Node's 'pipe' stdio is a socket, and nginx cannot open
 * /dev/stdout on a socket, so the nginx data plane turns its access log off there (src/nginx/default-access-log.ts).
 * A file (like the FIFO Docker gives a container) lets both planes' access log lines reach berth's stdout, which
 * is what the LOG_FORMAT / LOG_JSON / DISABLE_ACCESS_LOGS rows look at.
 */

const exec = promisify(execFile);
export const BERTH_IMAGE = 'berth:local';

export interface StartFailure {
  readonly failed: true;
  readonly code: number | undefined;
  readonly output: string;
}

function parseLine(text: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as LogLine;
  } catch {
    // not JSON: an access log line in nginx's text format, or pretty logs
  }
  return { msg: text, raw: true };
}

export function parseLines(text: string): LogLine[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').map(parseLine);
}

const isReady = (l: LogLine): boolean => l.msg === 'berth ready' || (l.raw === true && String(l.msg).includes('berth ready'));

async function pollLines(read: () => Promise<LogLine[]>, pred: (l: LogLine) => boolean, timeoutMs: number, what: () => Promise<string>): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await read()).find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching berth log line within ${timeoutMs} ms\n${(await what()).slice(-6000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Parses a growing file's complete lines once each (berth's stdout reaches MBs at debug level). */
class FileTail {
  private readonly parsed: LogLine[] = [];
  private offset = 0;
  private partial = '';
  constructor(private readonly path: string) {}

  lines(): LogLine[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [...this.parsed];
    }
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        this.offset += n;
        const text = this.partial + buf.subarray(0, n).toString('utf8');
        const nl = text.lastIndexOf('\n');
        this.partial = text.slice(nl + 1);
        this.parsed.push(...parseLines(text.slice(0, nl + 1)));
      }
    } finally {
      closeSync(fd);
    }
    return [...this.parsed];
  }
}

/** The environment every berth of the table gets, before the row's proxy env. */
function baseEnv(plane: Plane, stateDir: string): Record<string, string> {
  const inherited: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const key of ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'NO_COLOR', 'FORCE_COLOR']) delete inherited[key];
  return {
    ...inherited,
    DOCKER_HOST: 'unix:///var/run/docker.sock',
    BERTH_MODE: plane,
    BERTH_STATE_DIR: stateDir,
    LOG_LEVEL: 'debug',
    BERTH_LOG_FORMAT: 'json',
    BERTH_DEBOUNCE_MIN: '20ms',
    BERTH_DEBOUNCE_MAX: '100ms',
    BERTH_BACKEND_WAIT: '1s',
    BERTH_UPSTREAM_CONNECT_TIMEOUT: '2s',
    BERTH_VHOST_DIR: join(stateDir, 'vhost.d'),
    BERTH_CONF_DIR: join(stateDir, 'conf.d'),
    BERTH_PROXY_CONF: join(stateDir, 'proxy.conf'),
    BERTH_ADMIN: `unix://${join(stateDir, 'admin.sock')}`,
  };
}

async function runCli(env: Record<string, string>, args: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: REPO_ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** berth as a host process (`node --import tsx src/cli.ts`), stdout to a file. */
export async function startProcess(plane: Plane, proxyEnv: Readonly<Record<string, string>>, readyTimeoutMs = 30_000): Promise<ProxyUnderTest | StartFailure> {
  const root = mkdtempSync(join(tmpdir(), `berth-conformance-${plane}-`));
  const stateDir = join(root, 'state');
  mkdirSync(stateDir);
  const stdoutPath = join(root, 'stdout.log');
  const port = await freePort();
  const env = { ...baseEnv(plane, stateDir), HTTP_PORT: String(port), ...proxyEnv };
  const fd = openSync(stdoutPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  let exitCode: number | undefined;
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.on('error', (err) => (stderr += `spawn error: ${err.message}\n`));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve((exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143)))));
  const readStdout = (): string => {
    try {
      return readFileSync(stdoutPath, 'utf8');
    } catch {
      return '';
    }
  };
  const output = async (): Promise<string> => `--- berth stdout ---\n${readStdout()}\n--- berth stderr ---\n${stderr}`;
  const tail = new FileTail(stdoutPath);
  const lines = async (): Promise<LogLine[]> => tail.lines();
  const stop = async (): Promise<number> => {
    if (exitCode === undefined) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    rmSync(root, { recursive: true, force: true });
    return code;
  };
  const ready = await Promise.race([
    pollLines(lines, isReady, readyTimeoutMs, output).then(() => true),
    exited.then(() => false),
  ]).catch(() => false);
  if (!ready) {
    const text = await output();
    if (exitCode === undefined) await stop();
    else rmSync(root, { recursive: true, force: true });
    return { failed: true, code: exitCode, output: text };
  }
  return {
    plane,
    port,
    lines,
    output,
    waitForLine: (pred, timeoutMs = 10_000) => pollLines(lines, pred, timeoutMs, output),
    cli: (args) => runCli(env, args),
    stop,
  };
}

async function containerLogs(name: string): Promise<{ stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('docker', ['logs', name], { timeout: 10_000, maxBuffer: 32 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (err) {
    return { stdout: '', stderr: `docker logs ${name} failed: ${String(err)}` };
  }
}

let containerCounter = 0;

/**
 * The berth:local image (built by docker/build-berth-image.sh) started the nginx-proxy way: the socket mounted at
 * /tmp/docker.sock, on `networks` (attached before it starts), HTTP port 80 published on 127.0.0.1.
 */
export async function startContainer(plane: Plane, proxyEnv: Readonly<Record<string, string>>, networks: readonly string[], readyTimeoutMs = 60_000): Promise<ProxyUnderTest | StartFailure> {
  containerCounter += 1;
  const name = `cf-${RUN_ID}-berth-${plane}-${containerCounter}`;
  const port = await freePort();
  const env: Record<string, string> = { BERTH_MODE: plane, LOG_LEVEL: 'debug', BERTH_LOG_FORMAT: 'json', BERTH_DEBOUNCE_MIN: '20ms', BERTH_DEBOUNCE_MAX: '100ms', BERTH_BACKEND_WAIT: '1s', ...proxyEnv };
  const args = ['create', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, '--network', networks[0] ?? 'bridge', '-p', `127.0.0.1:${port}:80`, '-v', '/var/run/docker.sock:/tmp/docker.sock:ro', '--no-healthcheck'];
  for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
  await docker([...args, BERTH_IMAGE]);
  for (const network of networks.slice(1)) await docker(['network', 'connect', network, name]);
  await docker(['start', name]);
  const output = async (): Promise<string> => {
    const { stdout, stderr } = await containerLogs(name);
    return `--- berth container stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  };
  const lines = async (): Promise<LogLine[]> => parseLines((await containerLogs(name)).stdout);
  const stop = async (): Promise<number> => {
    await docker(['rm', '-f', name]).catch(() => undefined);
    return 0;
  };
  try {
    await pollLines(lines, isReady, readyTimeoutMs, output);
  } catch {
    const text = await output();
    const state = await docker(['inspect', '-f', '{{.State.ExitCode}}', name]).catch(() => '');
    await stop();
    return { failed: true, code: state === '' ? undefined : Number(state), output: text };
  }
  return {
    plane,
    port,
    lines,
    output,
    waitForLine: (pred, timeoutMs = 10_000) => pollLines(lines, pred, timeoutMs, output),
    cli: async (cliArgs) => {
      try {
        const { stdout, stderr } = await exec('docker', ['exec', name, 'node', '/app/dist/src/cli.js', ...cliArgs], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
      }
    },
    stop,
  };
}

/** Builds berth:local from the working tree (Docker's layer cache: seconds when nothing changed). */
export async function buildBerthImage(): Promise<void> {
  try {
    await exec('bash', [join(REPO_ROOT, 'docker', 'build-berth-image.sh')], { timeout: 400_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building ${BERTH_IMAGE} failed: ${(e.stderr ?? '') + (e.stdout ?? '') || e.message}`, { cause: err });
  }
}
