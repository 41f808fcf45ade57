import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { docker, ECHO_BARE_IMAGE, ECHO_IMAGE, RUN_ID, TEST_LABEL } from '../docker-cli.ts';
import { answers, routed, runRequest } from './clients.ts';
import { namesFor, type PortPool } from './names.ts';
import { startContainer, startProcess, type StartFailure } from './proxy.ts';
import type { ContainerSpec, Failure, LogLine, Names, Plane, PlaneSupport, ProxyUnderTest, Row, RowContext, Scenario, StartedContainer, Unsupported } from './types.ts';

/**
 * Runs the table: rows are grouped by berth's environment (and whether berth runs in a container); a group's
 * networks and containers start once, then one berth per data plane serves every row of the group, each row its
 * own test. Everything created carries the label berth.test=<run id>.
 */

/** Networks a containerised berth is attached to (ContainerSpec.networks may name them). */
const BERTH_NETWORKS: readonly string[] = ['berth', 'berth2'];

export interface PlannedRow {
  readonly row: Row;
  readonly names: Names;
  readonly scenario: Scenario;
}

export interface Group {
  readonly key: string;
  readonly title: string;
  readonly berth: 'process' | 'container';
  readonly proxyEnv: Readonly<Record<string, string>>;
  readonly rows: readonly PlannedRow[];
}

export function isUnsupported(s: PlaneSupport): s is Unsupported {
  return typeof s === 'object' && 'unsupported' in s;
}

/** Whether a plane runs a scenario for this row (supported or tested to fail), and why not otherwise. */
export function skipReason(s: PlaneSupport): string | undefined {
  if (s === 'tls') return 'tls: out of scope (TLS issue)';
  if (typeof s === 'object' && 'coveredBy' in s) return `covered by ${s.coveredBy}`;
  return undefined;
}

function sortedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/** Builds every runnable row's scenario and groups the rows by berth's environment, in table order. */
export function planGroups(rows: readonly Row[], pool: PortPool): Group[] {
  const groups = new Map<string, { berth: 'process' | 'container'; proxyEnv: Record<string, string>; rows: PlannedRow[] }>();
  for (const row of rows) {
    if (row.scenario === undefined) continue;
    const names = namesFor(row.id, RUN_ID, pool);
    const scenario = row.scenario(names);
    const proxyEnv = sortedEnv(scenario.proxyEnv ?? {});
    const berth = scenario.berth ?? 'process';
    const key = JSON.stringify({ berth, proxyEnv });
    const group = groups.get(key) ?? { berth, proxyEnv, rows: [] };
    group.rows.push({ row, names, scenario });
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => {
    const env = Object.entries(g.proxyEnv).map(([k, v]) => `${k}=${v}`).join(' ');
    const title = `${g.berth === 'container' ? 'berth in a container' : 'berth process'}${env ? `, ${env}` : ', default env'}`;
    return { key, title, berth: g.berth, proxyEnv: g.proxyEnv, rows: g.rows };
  });
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/**
 * Refuses a row subnet that contains one of this machine's own IPv4 addresses: Docker creates such a bridge without
 * complaint, and it would take over the host's route to that network (this machine's eth0 is 192.0.2.0/24).
 */
export function assertSubnetFree(args: readonly string[], where: string): void {
  const i = args.indexOf('--subnet');
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(args[i + 1] ?? '');
  if (i < 0 || m === null) return;
  const bits = Number(m[2]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const base = (ipv4ToInt(m[1] as string) & mask) >>> 0;
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && ((ipv4ToInt(a.address) & mask) >>> 0) === base) {
        throw new Error(`${where}: subnet ${args[i + 1]} contains this machine's address ${a.address} (${name}): choose another subnet`);
      }
    }
  }
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await fn(item).catch((err: unknown) => errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** The live objects of one group: containers, networks, and the berth of the plane being run. */
export class GroupRun {
  private readonly containers = new Map<string, StartedContainer>();
  private readonly networks = new Map<string, string>();
  private readonly extra: string[] = [];
  private readonly services: { stop(): Promise<void> }[] = [];
  proxy: ProxyUnderTest | undefined;
  failure: StartFailure | undefined;
  private extraCount = 0;

  constructor(readonly group: Group, private readonly index: number) {}

  /** `berth` and `berth2` are the group's networks that a containerised berth is attached to; others are the row's. */
  private networkName(rowId: string, key: string): string {
    return BERTH_NETWORKS.includes(key) ? `cf-${RUN_ID}-g${this.index}-${key}` : `cf-${RUN_ID}-${rowId}-${key}`;
  }

  private berthNetworks(): string[] {
    return this.group.berth === 'container' ? BERTH_NETWORKS.map((k) => this.networkName('', k)) : [];
  }

  async start(): Promise<void> {
    const wanted = new Map<string, readonly string[]>();
    for (const name of this.berthNetworks()) wanted.set(name, []);
    for (const { row, scenario } of this.group.rows) {
      for (const n of scenario.networks ?? []) {
        this.networks.set(`${row.id}/${n.key}`, this.networkName(row.id, n.key));
        wanted.set(this.networkName(row.id, n.key), n.args ?? []);
      }
    }
    for (const [name, args] of wanted) {
      assertSubnetFree(args, `network ${name}`);
      await docker(['network', 'create', '--label', `${TEST_LABEL}=${RUN_ID}`, ...args, name]);
    }
    for (const { scenario } of this.group.rows) if (scenario.service) this.services.push(await scenario.service());
    // Rows start side by side; the containers of one row in order (the conflict rule looks at creation order).
    await pool(this.group.rows, 6, async ({ row, scenario }) => {
      for (const spec of scenario.containers) {
        this.containers.set(`${row.id}/${spec.key}`, await this.run(row.id, spec, `cf-${RUN_ID}-${row.id}-${spec.key}`));
      }
    });
  }

  private async run(rowId: string, spec: ContainerSpec, name: string): Promise<StartedContainer> {
    const args = ['create', '--name', name, '--label', `${TEST_LABEL}=${RUN_ID}`, '--no-healthcheck'];
    for (const [k, v] of Object.entries(spec.labels ?? {})) if (v !== undefined) args.push('--label', `${k}=${v}`);
    for (const [k, v] of Object.entries(spec.env ?? {})) if (v !== undefined) args.push('--env', `${k}=${v}`);
    for (const p of spec.expose ?? []) args.push('--expose', String(p));
    if (spec.init) args.push('--init');
    const nets = (spec.networks ?? []).map((k) => this.resolveNetwork(rowId, k));
    if (spec.hostNetwork) args.push('--network', 'host');
    else if (nets[0] !== undefined) args.push('--network', nets[0]);
    const id = await docker([...args, spec.image === 'bare' ? ECHO_BARE_IMAGE : ECHO_IMAGE]);
    for (const net of nets.slice(1)) await docker(['network', 'connect', net, id]);
    await docker(['start', id]);
    return { key: spec.key, id, name };
  }

  private resolveNetwork(rowId: string, key: string): string {
    if (BERTH_NETWORKS.includes(key)) {
      assert.equal(this.group.berth, 'container', `row ${rowId}: network ${key} exists only when berth runs in a container`);
      return this.networkName(rowId, key);
    }
    return this.networks.get(`${rowId}/${key}`) ?? assert.fail(`row ${rowId}: unknown network ${key}`);
  }

  async startProxy(plane: Plane): Promise<void> {
    this.failure = undefined;
    const outcome =
      this.group.berth === 'container'
        ? await startContainer(plane, this.group.proxyEnv, this.berthNetworks())
        : await startProcess(plane, this.group.proxyEnv);
    if ('failed' in outcome) this.failure = outcome;
    else this.proxy = outcome;
  }

  async stopProxy(): Promise<number | undefined> {
    const proxy = this.proxy;
    this.proxy = undefined;
    return proxy?.stop();
  }

  async stop(): Promise<void> {
    await this.stopProxy().catch(() => undefined);
    const ids = [...this.containers.values()].map((c) => c.id).concat(this.extra);
    if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids]).catch(() => undefined);
    for (const name of new Set([...this.networks.values(), ...this.berthNetworks()])) {
      await docker(['network', 'rm', name]).catch(() => undefined);
    }
    for (const service of this.services.splice(0)) await service.stop().catch(() => undefined);
  }

  context(planned: PlannedRow, plane: Plane): RowContext {
    const proxy = this.proxy;
    if (proxy === undefined) {
      throw new Error(`berth (${plane}) did not start for this group (exit code ${String(this.failure?.code)}):\n${this.failure?.output.slice(-6000) ?? ''}`);
    }
    const rowId = planned.row.id;
    return {
      plane,
      proxy,
      names: planned.names,
      container: (key) => this.containers.get(`${rowId}/${key}`) ?? assert.fail(`row ${rowId}: no container ${key}`),
      network: (key) => this.resolveNetwork(rowId, key),
      start: async (spec) => {
        this.extraCount += 1;
        const c = await this.run(rowId, spec, `cf-${RUN_ID}-${rowId}-${spec.key}-${plane}-${this.extraCount}`);
        this.extra.push(c.id);
        return c;
      },
    };
  }
}

/** A warning (or worse) that names the container, the issue code and the setting. */
export function namesIssue(line: LogLine, container: string, code: string, setting: string): boolean {
  if ((line.level ?? 0) < 40) return false;
  const text = JSON.stringify(line);
  return text.includes(container) && text.includes(code) && text.includes(setting);
}

function expectRefusal(run: GroupRun, output: RegExp, plane: Plane): void {
  assert.ok(run.failure, `berth (${plane}) started, but it should refuse to (output matching ${String(output)})`);
  assert.notEqual(run.failure.code, 0, `berth exited 0, expected a non-zero exit:\n${run.failure.output.slice(-3000)}`);
  assert.match(run.failure.output, output);
}

async function expectFailure(ctx: RowContext | undefined, run: GroupRun, failure: Failure, plane: Plane): Promise<void> {
  if (failure.kind === 'refused-start') {
    expectRefusal(run, failure.output, plane);
    return;
  }
  assert.ok(ctx);
  if (failure.kind === 'ignored') {
    await routed(ctx, ctx.names.host(failure.host));
    return;
  }
  const container = ctx.container(failure.container).name;
  await ctx.proxy.waitForLine((l) => namesIssue(l, container, failure.code, failure.setting), 15_000);
  if (failure.host !== undefined) await answers(ctx, ctx.names.host(failure.host), failure.status ?? 503);
  // What a user runs to ask why (README: Troubleshooting): it must say the same.
  const explain = await ctx.proxy.cli(['explain', container]);
  assert.equal(explain.code, 0, `berth explain ${container} failed: ${explain.stderr.slice(-1000)}`);
  assert.match(explain.stdout, new RegExp(`NOT routed[\\s\\S]*${failure.code}`), `berth explain ${container}:\n${explain.stdout}`);
  assert.ok(explain.stdout.includes(failure.setting), `berth explain ${container} does not name ${failure.setting}:\n${explain.stdout}`);
}

/** Runs one row in one plane: the scenario when supported, the expected clear failure when not. */
export async function runRow(run: GroupRun, planned: PlannedRow, plane: Plane): Promise<void> {
  const support = planned.row.planes[plane];
  if (!isUnsupported(support) && planned.scenario.refusesStart !== undefined) {
    expectRefusal(run, planned.scenario.refusesStart, plane);
    return;
  }
  const refuses = isUnsupported(support) && support.expect.kind === 'refused-start';
  const ctx = refuses && run.proxy === undefined ? undefined : run.context(planned, plane);
  if (isUnsupported(support)) {
    await expectFailure(ctx, run, support.expect, plane);
    return;
  }
  assert.ok(ctx);
  for (const request of planned.scenario.requests ?? []) await runRequest(ctx, request);
  await planned.scenario.check?.(ctx);
}
