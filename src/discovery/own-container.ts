import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * Candidate ids of the container berth runs in, most likely first. docker-gen's detection broke several times
 * (cgroup v2, GitHub Actions, -only-exposed: nginx-proxy reference 5.6), so berth reads every source it knows,
 * prefers an id that starts with $HOSTNAME (Docker's default hostname), and the caller verifies each candidate with
 * an inspect of the engine: an id found on a host that is not berth's container simply fails that check.
 */
export function containerIdCandidates(texts: readonly string[], host: string): string[] {
  const ids = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?<![0-9a-f])([0-9a-f]{64})(?![0-9a-f])/g)) ids.add(m[1] as string);
  }
  const all = [...ids];
  const preferred = all.filter((id) => host.length >= 12 && id.startsWith(host.toLowerCase()));
  return [...preferred, ...all.filter((id) => !preferred.includes(id))];
}

const SOURCES = ['/proc/self/mountinfo', '/proc/self/cgroup', '/proc/1/cpuset'];

export async function readContainerIdCandidates(): Promise<string[]> {
  const texts = await Promise.all(SOURCES.map((p) => readFile(p, 'utf8').catch(() => '')));
  return containerIdCandidates(texts, hostname());
}
