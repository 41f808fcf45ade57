import { createHash } from 'node:crypto';

/** Hex sha1 of a text: nginx-proxy's names for regex hosts, path-specific files and upstreams. */
export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
