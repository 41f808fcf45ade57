/**
 * The conformance table's vocabulary: one Row per nginx-proxy setting or form (sections 1.1-1.3 of
 * /work/shared/reference/nginx-proxy.md, plus the core behaviours of 1.5), what nginx-proxy does, a scenario (the
 * containers to start, the proxy's env, the requests and what a client must see) and, per data plane, whether berth
 * supports it or how it fails clearly. Pure data and types: scripts/compat-table.ts imports the table without Docker.
 */

export type Plane = 'node' | 'nginx';
export const PLANES: readonly Plane[] = ['node', 'nginx'];

export type Section = '1.1' | '1.2' | '1.3' | '1.4' | '1.5';

/** Issue codes berth logs for a container it could not (fully) route (src/routing-table.ts, src/errors.ts). */
export type IssueCode =
  | 'ERR_VIRTUAL_HOST_INVALID'
  | 'ERR_VIRTUAL_DEST_INVALID'
  | 'ERR_MULTIPORTS_INVALID'
  | 'ERR_SETTING_INVALID'
  | 'ERR_SETTING_UNSUPPORTED'
  | 'ERR_NO_REACHABLE_NETWORK'
  | 'WARN_SETTING_CONFLICT';

/** How a plane that does not support a row must fail, so that a user sees why (tested like any other row). */
export type Failure =
  /**
   * The container is not routed: a warning log line names the container, the issue code and the setting (and
   * `berth explain` would say the same); requests for `host` (when given) get `status` (default 503). Hosts here
   * are relative to the row's names: '' is the row's domain, 'x' is `x.<domain>`.
   */
  | { readonly kind: 'not-routed'; readonly container: string; readonly code: IssueCode; readonly setting: string; readonly host?: string; readonly status?: number }
  /** berth refuses to start: it exits non-zero and its output matches `output` (naming the setting). */
  | { readonly kind: 'refused-start'; readonly output: RegExp }
  /**
   * The setting has no meaning in this plane: berth starts with it and serves `host` (relative, as above) exactly
   * as without it (a 200 from the backend).
   */
  | { readonly kind: 'ignored'; readonly host: string };

export interface Unsupported {
  /** Why this plane does not do it, and what to do instead (shown in the README's compatibility table). */
  readonly unsupported: string;
  readonly expect: Failure;
}

/**
 * `supported`: the scenario must pass. `{ supported: note }`: passes, with a remark for the table. `tls`: a TLS
 * row, out of scope here (the TLS issue), listed without a test. `{ coveredBy }`: tested by another e2e file.
 */
export type PlaneSupport = 'supported' | { readonly supported: string } | 'tls' | Unsupported | { readonly coveredBy: string };

export type PlaneSupports = Readonly<Record<Plane, PlaneSupport>>;

export interface NetworkSpec {
  /** Referenced by ContainerSpec.networks; the Docker name is made unique per run. */
  readonly key: string;
  /** Extra `docker network create` arguments (`--ipv6`, `--subnet ...`, `--internal`). */
  readonly args?: readonly string[];
}

export interface ContainerSpec {
  /** Name within the row (ctx.container(key)); the Docker name is `cf-<run>-<row id>-<key>`. */
  readonly key: string;
  /** `echo` (EXPOSE 80, the default) or `bare` (no EXPOSE: exposed ports exactly as `expose`). */
  readonly image?: 'echo' | 'bare';
  /** Undefined values are skipped (object literals of one array get optional keys from each other). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly labels?: Readonly<Record<string, string | undefined>>;
  readonly expose?: readonly number[];
  /** `--init`: a real PID 1 (tini) forwards signals, so a signal the app does not handle ends it. */
  readonly init?: boolean;
  /** Row network keys, attached before the container starts; default: Docker's default bridge. */
  readonly networks?: readonly string[];
  /** `--network host`. */
  readonly hostNetwork?: boolean;
}

/** Expected values: exact (string/number/boolean), a pattern, or null = absent (or JSON null). */
export type Expected = string | number | boolean | RegExp | null;

export interface Expectation {
  readonly status?: number;
  /** Fields of the echo backend's JSON answer (docker/echo/server.mjs): url, name, port, tls, remoteAddress... */
  readonly echo?: Readonly<Record<string, Expected | undefined>>;
  /** Request headers the backend saw (lower-case names). */
  readonly echoHeaders?: Readonly<Record<string, Expected | undefined>>;
  /** Response headers the client got (lower-case names). Undefined entries are not checked. */
  readonly headers?: Readonly<Record<string, Expected | undefined>>;
  readonly body?: RegExp;
}

/** A plain HTTP/1.1 request from the host (a new connection each time), retried until it meets `expect`. */
export interface RequestSpec {
  readonly host: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: berth's HTTP_PORT. */
  readonly port?: number;
  /** Default 127.0.0.1; `::1` for IPv6 rows. */
  readonly address?: string;
  readonly expect: Expectation;
}

/** What a row starts and checks. Rows whose `proxyEnv` and `berth` are equal share one berth (a group). */
export interface Scenario {
  /** Proxy-wide env given to berth (HTTP_PORT, BERTH_MODE, DOCKER_HOST and the log settings are the runner's). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** `process` (default): berth runs on the host. `container`: the berth:local image, attached to the group's networks `berth` and `berth2` (containers may join them by these keys). */
  readonly berth?: 'process' | 'container';
  readonly networks?: readonly NetworkSpec[];
  /** Started in this order (creation order matters for the conflict rule), before berth starts. */
  readonly containers: readonly ContainerSpec[];
  /** Run in order, each until it meets its expectation (then `check`). */
  readonly requests?: readonly RequestSpec[];
  readonly check?: (ctx: RowContext) => Promise<void>;
  /**
   * Something the row needs running before berth starts (e.g. a TCP forwarder to the Docker socket for
   * DOCKER_HOST=tcp://); stopped with the group.
   */
  readonly service?: () => Promise<{ stop(): Promise<void> }>;
  /**
   * berth must refuse to start with this proxy env: it exits non-zero and its output matches (then `requests` and
   * `check` do not run).
   */
  readonly refusesStart?: RegExp;
}

/** Names a scenario uses, unique to the row and the run. */
export interface Names {
  readonly rowId: string;
  readonly run: string;
  /** `<row id>.<run>.test`; `host('a')` = `a.<domain>`. */
  readonly domain: string;
  host(sub?: string): string;
  /** A TCP port that was free when the run started, the same for every call with this key in the row. */
  port(key: string): number;
}

export interface Row {
  /** kebab-case, unique; the test is named `<id> [<plane>]`. */
  readonly id: string;
  readonly section: Section;
  /** The setting and the form this row covers, e.g. `VIRTUAL_HOST` (leading wildcard). */
  readonly setting: string;
  /** nginx-proxy's behaviour in one line (the README table's middle column). */
  readonly nginxProxy: string;
  readonly planes: PlaneSupports;
  /** Absent for `tls` and `coveredBy` rows. */
  readonly scenario?: (names: Names) => Scenario;
}

export type LogLine = Record<string, unknown> & { level?: number; msg?: string; raw?: boolean };

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** berth under test, whichever way it runs. */
export interface ProxyUnderTest {
  readonly plane: Plane;
  /** Where clients reach its HTTP_PORT from the host (127.0.0.1). */
  readonly port: number;
  /** Every stdout line so far: pino JSON objects, access log lines (JSON or `{ msg, raw: true }`). */
  lines(): Promise<LogLine[]>;
  /** The raw stdout + stderr text so far. */
  output(): Promise<string>;
  /** Polls until a line matches; the error lists the last lines. */
  waitForLine(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** `berth <args>` with berth's own environment (render, explain, routes). */
  cli(args: readonly string[]): Promise<CliResult>;
  stop(): Promise<number>;
}

export interface StartedContainer {
  readonly key: string;
  readonly id: string;
  readonly name: string;
}

export interface RowContext {
  readonly plane: Plane;
  readonly proxy: ProxyUnderTest;
  readonly names: Names;
  container(key: string): StartedContainer;
  /** The Docker name of a row network. */
  network(key: string): string;
  /** Starts one more container for this row (removed with the group), e.g. to trigger a table change. */
  start(spec: ContainerSpec): Promise<StartedContainer>;
}
