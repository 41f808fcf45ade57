import { fstatSync } from 'node:fs';
import type { Logger } from 'pino';
import { DEFAULT_ACCESS_LOG } from './render-nginx-config.ts';

/**
 * nginx cannot open /dev/stdout when berth's stdout is a socket (systemd-journald, some supervisors): ENXIO. Access
 * logs are then off (with a warning) rather than nginx failing to start.
 */
export function defaultAccessLog(stdout: 'inherit' | 'ignore', log: Logger): string {
  if (stdout === 'ignore') return DEFAULT_ACCESS_LOG;
  try {
    if (!fstatSync(1).isSocket()) return DEFAULT_ACCESS_LOG;
  } catch {
    return DEFAULT_ACCESS_LOG;
  }
  log.warn('stdout is a socket, which nginx cannot open as /dev/stdout: nginx access logs are off');
  return 'off';
}
