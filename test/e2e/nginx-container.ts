import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './berth-process.ts';
import { docker, removeContainer, runContainer, type RunningContainer } from './docker-cli.ts';
import { eventually } from './http-client.ts';

/**
 * nginx-proxy's separate-containers layout, made from local parts: an nginx container (berth-base:local, which has
 * nginx 1.22 but no nginx.conf) running a main config written here, whose conf.d is a host directory berth writes
 * BERTH_NGINX_OUTPUT into. Snippet dirs are bind-mounted at the SAME absolute path inside the container: in external
 * mode berth writes the host paths of vhost.d snippets into the generated config, so nginx's view of them must match.
 */

export const NGINX_IMAGE = 'berth-base:local';
export const NGINX_LABEL = 'com.github.nginx-proxy.nginx-proxy.nginx';

export interface NginxContainerOptions {
  readonly network: string;
  /** Label(s) to put on the container (default: NGINX_LABEL=true). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface NginxContainer extends RunningContainer {
  /** Host port published to the container's port 80 (on 127.0.0.1). */
  readonly port: number;
  /** Host dir mounted at /etc/nginx/conf.d. */
  readonly confDir: string;
  /** BERTH_NGINX_OUTPUT: `<confDir>/default.conf`. */
  readonly outputFile: string;
  /** Host dir for BERTH_VHOST_DIR, mounted at the same path inside the container. */
  readonly vhostDir: string;
  /** Host dir for BERTH_CONF_DIR (mounted at the same path; berth does not include it in external mode). */
  readonly berthConfDir: string;
  /** Host path for BERTH_PROXY_CONF (inside the same-path mount). */
  readonly proxyConf: string;
  /** BERTH_ADMIN for berth: a socket in this fixture's temp dir (not the shared default /tmp/berth-admin.sock). */
  readonly adminSocket: string;
  /** `docker logs` of the container (nginx's stderr: error log at notice level, and stdout: access log). */
  logs(): Promise<string>;
  /** Removes the container and the temp dir. */
  dispose(): Promise<void>;
}

/** Main config: the shape nginx-proxy's nginx image has (events, http { mime.types, conf.d/*.conf }). */
export const MAIN_CONF = `# nginx container main config (test/e2e/nginx-container.ts)
pid /tmp/nginx.pid;
error_log stderr notice;
worker_processes 1;
events {
  worker_connections 1024;
}
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path /tmp/client_body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  include /etc/nginx/conf.d/*.conf;
}
`;

/** `docker logs`: the container's stdout (access log) and stderr (error log), which the CLI prints on its own two. */
async function containerLogs(id: string): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)('docker', ['logs', id], { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (err) {
    return `docker logs ${id} failed: ${String(err)}`;
  }
}

/**
 * Starts the nginx container BEFORE berth: berth's discovery reads the labelled container's networks to decide what
 * is reachable, so it must exist when berth lists containers. conf.d is empty at first: nginx then listens nowhere
 * but runs, and picks up berth's file at the first SIGHUP.
 */
export async function startNginxContainer(options: NginxContainerOptions): Promise<NginxContainer> {
  const root = mkdtempSync(join(tmpdir(), 'berth-e2e-ext-'));
  const confDir = join(root, 'conf.d');
  const shared = join(root, 'shared');
  const vhostDir = join(shared, 'vhost.d');
  const berthConfDir = join(shared, 'berth-conf.d');
  for (const d of [confDir, vhostDir, berthConfDir]) mkdirSync(d, { recursive: true });
  const mainConf = join(root, 'nginx.conf');
  writeFileSync(mainConf, MAIN_CONF);
  const port = await freePort();
  const labels = options.labels ?? { [NGINX_LABEL]: 'true' };
  let container: RunningContainer;
  try {
    container = await runContainer({
      image: NGINX_IMAGE,
      network: options.network,
      labels,
      args: [
        '--publish', `127.0.0.1:${port}:80`,
        '--volume', `${mainConf}:/etc/nginx/nginx.conf:ro`,
        '--volume', `${confDir}:/etc/nginx/conf.d:ro`,
        '--volume', `${shared}:${shared}:ro`,
        '--entrypoint', 'nginx',
      ],
      // -e stderr: the compiled-in /var/log/nginx/error.log is not opened before the config is read.
      cmd: ['-e', 'stderr', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;'],
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const logs = (): Promise<string> => containerLogs(container.id);
  // nginx is up once its master logged "start worker processes" (nothing listens until berth's config arrives).
  const dispose = async (): Promise<void> => {
    await removeContainer(container.id).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      const state = await docker(['inspect', '-f', '{{.State.Status}}', container.id]);
      if (state !== 'running') throw new Error(`nginx container is ${state}:\n${await logs()}`);
      if (!/start worker process/.test(await logs())) throw new Error(`nginx has not started its workers:\n${await logs()}`);
    }, { timeoutMs: 15_000, intervalMs: 100 });
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    ...container,
    port,
    confDir,
    outputFile: join(confDir, 'default.conf'),
    vhostDir,
    berthConfDir,
    proxyConf: join(shared, 'proxy.conf'),
    adminSocket: `unix://${join(root, 'admin.sock')}`,
    logs,
    dispose,
  };
}
