/**
 * Processes for bench/throughput: the backend (a 1-worker nginx answering 100 bytes), plain nginx configured the way
 * nginx-proxy would configure it for that one backend (reference section 2), and berth's own data planes
 * (bench/throughput-plane.ts, driven through the module API with a hand-built routing table). Every process is
 * started under `taskset`, so its children (nginx workers) inherit the pinning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { freePort } from '../test/support/free-port.ts';
export { freePort };

export const BENCH_HOST = 'bench.test';
/** 100 bytes, like the anchors in the environment reference. */
export const BODY = `${'x'.repeat(99)}\n`;

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}


function spawnPinned(name: string, cpu: string, command: string, args: readonly string[], port: number, logFile: string): Proc {
  const child = spawn('taskset', ['-c', cpu, command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null) writeFileSync(logFile, stderr);
    if (code !== 0 && code !== null) console.error(`${name} exited with ${code ?? signal}; stderr in ${logFile}`);
  });
  return {
    name,
    child,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function nginxMain(dir: string, name: string, http: string): string {
  return `worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;
events { worker_connections 10240; }
http {
  access_log off;
  client_body_temp_path ${join(dir, `${name}-body`)};
  proxy_temp_path ${join(dir, `${name}-proxy`)};
  fastcgi_temp_path ${join(dir, `${name}-fastcgi`)};
  uwsgi_temp_path ${join(dir, `${name}-uwsgi`)};
  scgi_temp_path ${join(dir, `${name}-scgi`)};
  keepalive_requests 1000000;
${http}
}
`;
}

export function startBackend(dir: string, cpu: string, port: number): Proc {
  const file = join(dir, 'backend.conf');
  const http = `  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    default_type text/plain;
    location / { return 200 "${BODY.slice(0, -1)}\\n"; }
    # 1 MB sent at 2 MB/s: clients of the RSS-flatness run abort in the middle of it.
    location = /big { root ${dir}; try_files /big.bin =404; limit_rate 2m; }
  }`;
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(1 << 20, 120));
  writeFileSync(file, nginxMain(dir, 'backend', http));
  return spawnPinned('backend', cpu, '/usr/sbin/nginx', ['-p', dir, '-c', file, '-e', join(dir, 'backend-error.log')], port, join(dir, 'backend.stderr'));
}

/**
 * What nginx-proxy generates for one container on one host (reference section 2): the http-level maps and
 * proxy_set_header defaults, an upstream with `keepalive N` (nginx-proxy's `auto` is 2 x servers = 2), a server with
 * one `/` location that sets $upstream_keepalive. Access logs off here (as in every path of this bench).
 */
export function startPlainNginx(dir: string, cpu: string, port: number, backendPort: number, keepalive: number): Proc {
  const name = `nginx-ka${keepalive}`;
  const file = join(dir, `${name}.conf`);
  const http = `  map $http_x_forwarded_proto $proxy_x_forwarded_proto { default $http_x_forwarded_proto; '' $scheme; }
  map $http_x_forwarded_host $proxy_x_forwarded_host { default $http_x_forwarded_host; '' $host; }
  map $http_x_forwarded_port $proxy_x_forwarded_port { default $http_x_forwarded_port; '' $server_port; }
  map $proxy_x_forwarded_proto $proxy_x_forwarded_ssl { default off; https on; }
  map $upstream_keepalive $proxy_connection_noupgrade { default ''; false close; }
  map $http_upgrade $proxy_connection { default upgrade; '' $proxy_connection_noupgrade; }
  map '' $upstream_keepalive { default false; }
  map $server_port $host_port { default :$server_port; 80 ''; 443 ''; }
  gzip_types text/plain text/css application/javascript application/json;
  proxy_http_version 1.1;
  proxy_set_header Host $host$host_port;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $proxy_connection;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Host $proxy_x_forwarded_host;
  proxy_set_header X-Forwarded-Proto $proxy_x_forwarded_proto;
  proxy_set_header X-Forwarded-Ssl $proxy_x_forwarded_ssl;
  proxy_set_header X-Forwarded-Port $proxy_x_forwarded_port;
  proxy_set_header X-Original-URI $request_uri;
  proxy_set_header Proxy "";
  server { server_name _; listen 127.0.0.1:${port} default_server; return 503; }
  # ${BENCH_HOST}/
  upstream ${BENCH_HOST} {
    # backend
    server 127.0.0.1:${backendPort};
    keepalive ${keepalive};
  }
  server {
    server_name ${BENCH_HOST};
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://${BENCH_HOST};
      set $upstream_keepalive true;
    }
  }`;
  writeFileSync(file, nginxMain(dir, name, http));
  return spawnPinned(name, cpu, '/usr/sbin/nginx', ['-p', dir, '-c', file, '-e', join(dir, `${name}-error.log`)], port, join(dir, `${name}.stderr`));
}

/** berth's data plane `mode` (node | nginx) in its own process, via bench/throughput-plane.ts. */
export function startBerthPlane(
  dir: string,
  cpu: string,
  mode: 'node' | 'nginx',
  port: number,
  backendPort: number,
  extraEnv: Record<string, string> = {},
  script = new URL('./throughput-plane.ts', import.meta.url).pathname,
): Proc {
  // berth's own Node flags (the image's ENTRYPOINT, `npm start`): the plane runs as shipped.
  const args = [...NODE_FLAGS, '--import', 'tsx', script, mode, String(port), String(backendPort), join(dir, `berth-${mode}-${port}`), JSON.stringify(extraEnv)];
  return spawnPinned(`berth-${mode}`, cpu, process.execPath, args, port, join(dir, `berth-${mode}-${port}.stderr`));
}

/** bench/throughput-minimal.ts: a bare proxy over undici or over berth's h1 client (reference rows, not berth). */
export function startMinimal(dir: string, cpu: string, client: 'undici' | 'h1', port: number, backendPort: number, script = new URL('./throughput-minimal.ts', import.meta.url).pathname): Proc {
  const name = `${client}-minimal`;
  return spawnPinned(name, cpu, process.execPath, ['--import', 'tsx', script, client, String(port), String(backendPort)], port, join(dir, `${name}.stderr`));
}

/** The pid and every descendant (nginx master -> workers, berth -> nginx -> workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i] as number;
    try {
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (children !== '') out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // the process went away
    }
  }
  return out;
}

/** Summed VmRSS of a process tree, in MB; `taskset` itself has exec'd into the command, so the pid is the command. */
export function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** CPU seconds (user + system) used so far by a process tree (clock ticks of 10 ms; exited children not counted). */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
    } catch {
      // gone
    }
  }
  return ticks / 100;
}
