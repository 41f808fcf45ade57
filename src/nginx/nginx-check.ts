import { spawn } from 'node:child_process';

/** Result of `nginx -t`: nginx's own output is kept verbatim for the logs. */
export interface NginxCheckResult {
  readonly ok: boolean;
  /** nginx's stderr (without the `syntax is ok` noise when `-q` works). */
  readonly output: string;
  /** True when the binary could not be run at all (ENOENT...), as opposed to a config that failed. */
  readonly binaryMissing: boolean;
}

const CHECK_TIMEOUT_MS = 15_000;

/** `nginx -t -q -e stderr -p <prefix> -c <mainConf>`; never throws. */
export function checkNginxConfig(binary: string, prefix: string, mainConf: string): Promise<NginxCheckResult> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const done = (result: NginxCheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    // stdout is /dev/null: nginx opens `access_log /dev/stdout` while testing, and that fails (ENXIO) when
    // stdout is a socket, which is what Node's 'pipe' gives a child.
    const child = spawn(binary, ['-t', '-q', '-e', 'stderr', '-p', prefix, '-c', mainConf], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, output: `${output}nginx -t did not finish within ${CHECK_TIMEOUT_MS} ms`, binaryMissing: false });
    }, CHECK_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      done({ ok: false, output: `cannot run ${binary}: ${err.message}`, binaryMissing: err.code === 'ENOENT' || err.code === 'EACCES' });
    });
    child.on('close', (code) => done({ ok: code === 0, output: output.trim(), binaryMissing: false }));
  });
}
