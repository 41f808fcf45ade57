import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Docker through its CLI (tests may not import dockerode: only src/discovery does). Every container and network
 * created here carries the label `berth.test=<run id>` and `cleanupAll()` removes everything labelled `berth.test`,
 * whatever the run: /var/lib/docker survives between runs, so a crashed run's leftovers are removed by the next one.
 */

const exec = promisify(execFile);

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_LABEL = 'berth.test';
/** Short, lower-case, unique per test process: used in container names and host names. */
export const RUN_ID = `${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
export const ECHO_IMAGE = 'berth-echo:local';
/** The same server without EXPOSE or HEALTHCHECK, for exact control of the exposed ports. */
export const ECHO_BARE_IMAGE = 'berth-echo-bare:local';

export async function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await exec('docker', [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

export async function dockerOk(args: readonly string[], timeoutMs = 10_000): Promise<boolean> {
  return docker(args, timeoutMs).then(
    () => true,
    () => false,
  );
}

export interface HealthcheckOptions {
  /** Command run with the image's shell-less exec form; default: the image's own HEALTHCHECK command. */
  readonly cmd?: readonly string[];
  /** Docker durations such as `1s`. */
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: number;
  readonly startPeriod?: string;
}

export interface RunOptions {
  readonly image?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** `--expose` ports (in addition to the image's EXPOSE). */
  readonly expose?: readonly number[];
  readonly network?: string;
  /** Default: `berth-<run id>-<counter>`. */
  readonly name?: string;
  /**
   * Default `'none'` (`--no-healthcheck`): the container's health is `none`, so routing does not wait for a first
   * probe. `'image'` keeps the image's HEALTHCHECK; an object overrides parts of it.
   */
  readonly healthcheck?: 'none' | 'image' | HealthcheckOptions;
  /** Command (and arguments) replacing the image's CMD. */
  readonly cmd?: readonly string[];
  /** Extra raw `docker run` arguments, placed before the image. */
  readonly args?: readonly string[];
}

export interface RunningContainer {
  readonly id: string;
  readonly name: string;
}

let counter = 0;

function healthArgs(h: RunOptions['healthcheck']): string[] {
  if (h === undefined || h === 'none') return ['--no-healthcheck'];
  if (h === 'image') return [];
  const args: string[] = [];
  if (h.cmd) args.push('--health-cmd', h.cmd.join(' '));
  if (h.interval) args.push('--health-interval', h.interval);
  if (h.timeout) args.push('--health-timeout', h.timeout);
  if (h.retries !== undefined) args.push('--health-retries', String(h.retries));
  if (h.startPeriod) args.push('--health-start-period', h.startPeriod);
  return args;
}

export function uniqueName(prefix = 'berth'): string {
  counter += 1;
  return `${prefix}-${RUN_ID}-${counter}`;
}

/** A host name unique to this run: `<scenario>-<run id>.127.0.0.1.nip.io` (resolves to loopback if looked up). */
export function hostFor(scenario: string): string {
  return `${scenario}-${RUN_ID}.127.0.0.1.nip.io`;
}

export async function runContainer(options: RunOptions = {}): Promise<RunningContainer> {
  const name = options.name ?? uniqueName();
  const args = ['run', '-d', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`];
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(options.env ?? {})) args.push('--env', `${k}=${v}`);
  for (const p of options.expose ?? []) args.push('--expose', String(p));
  if (options.network !== undefined) args.push('--network', options.network);
  args.push(...healthArgs(options.healthcheck), ...(options.args ?? []));
  args.push(options.image ?? ECHO_IMAGE, ...(options.cmd ?? []));
  const id = await docker(args);
  return { id, name };
}

export async function removeContainer(idOrName: string): Promise<void> {
  await docker(['rm', '-f', '-v', idOrName]);
}

export async function stopContainer(idOrName: string, graceSeconds = 10): Promise<void> {
  await docker(['stop', '-t', String(graceSeconds), idOrName], (graceSeconds + 30) * 1000);
}

/** The container's address on `network` (default: its only/first network). */
export async function containerAddress(idOrName: string, network?: string): Promise<string> {
  const json = await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', idOrName]);
  const networks = JSON.parse(json) as Record<string, { IPAddress?: string }>;
  const entry = network !== undefined ? networks[network] : Object.values(networks)[0];
  if (!entry?.IPAddress) throw new Error(`container ${idOrName} has no IPv4 address on ${network ?? 'any network'}`);
  return entry.IPAddress;
}

export async function createNetwork(name = uniqueName('berth-net'), extraArgs: readonly string[] = []): Promise<string> {
  await docker(['network', 'create', '--label', `${TEST_LABEL}=${RUN_ID}`, ...extraArgs, name]);
  return name;
}

export async function removeNetwork(name: string): Promise<void> {
  await docker(['network', 'rm', name]);
}

/** Removes every container and network labelled `berth.test` (any run). Safe to call when nothing exists. */
export async function cleanupAll(): Promise<void> {
  const containers = (await docker(['ps', '-aq', '--filter', `label=${TEST_LABEL}`])).split('\n').filter(Boolean);
  if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers]);
  const networks = (await docker(['network', 'ls', '-q', '--filter', `label=${TEST_LABEL}`])).split('\n').filter(Boolean);
  for (const id of networks) await docker(['network', 'rm', id]).catch(() => undefined);
}

let imagesReady: Promise<void> | undefined;

/** Builds the test images once per test process (the script itself skips images that exist). */
export function ensureImages(): Promise<void> {
  imagesReady ??= (async () => {
    try {
      await exec('bash', [join(REPO_ROOT, 'docker', 'build-test-images.sh')], { timeout: 180_000 });
    } catch (err) {
      imagesReady = undefined;
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`building test images failed: ${e.stderr || e.stdout || e.message}`, { cause: err });
    }
  })();
  return imagesReady;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function dockerdPid(): Promise<number | undefined> {
  const out = await exec('pidof', ['dockerd']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  const pid = Number(out.split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Restarts the Docker engine the way .ci/run starts it: SIGTERM to dockerd, wait until `docker info` fails and the
 * process is gone, then `setsid dockerd >/var/log/dockerd.log 2>&1 &` and wait until `docker info` answers again.
 * Running containers are stopped by the engine (no live-restore), so callers start fresh ones afterwards.
 */
export async function restartDockerd(timeoutMs = 60_000): Promise<void> {
  const pid = await dockerdPid();
  if (pid === undefined) throw new Error('dockerd is not running (pidof dockerd found nothing)');
  process.kill(pid, 'SIGTERM');
  await waitFor(async () => !(await dockerOk(['info'], 5000)), timeoutMs, 'docker info to fail');
  await waitFor(async () => (await dockerdPid()) === undefined, timeoutMs, `dockerd (pid ${pid}) to exit`);
  const log = openSync('/var/log/dockerd.log', 'a');
  try {
    spawn('setsid', ['dockerd'], { detached: true, stdio: ['ignore', log, log] }).unref();
  } finally {
    closeSync(log);
  }
  await waitFor(() => dockerOk(['info'], 5000), timeoutMs, 'docker info to answer after restarting dockerd');
}
