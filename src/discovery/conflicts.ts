import type { ContainerIssue } from '../routing-table.ts';
import type { ContainerInfo } from './container-info.ts';
import type { Setter } from './plan-issues.ts';

/**
 * The conflict rule for per-host and per-path settings. nginx-proxy takes the value of an arbitrary container (Go
 * map order); berth's rule is deterministic: the value from the earliest-created container that sets the setting
 * wins (tie: container name, then id). A multiports `external_http_port` outranks EXTERNAL_HTTP_PORT before that
 * (nginx-proxy processes multiports first). Containers that do not set a setting do not count. Every container whose
 * different value lost gets a WARN_SETTING_CONFLICT naming the host/path, the setting, both values and the winner.
 */
export interface Candidate<T> {
  readonly container: ContainerInfo;
  readonly setter: Setter<T>;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function order(a: Candidate<unknown>, b: Candidate<unknown>): number {
  const ca = a.container.created ?? Number.POSITIVE_INFINITY;
  const cb = b.container.created ?? Number.POSITIVE_INFINITY;
  return (
    a.setter.rank - b.setter.rank ||
    (ca === cb ? 0 : ca < cb ? -1 : 1) ||
    byString(a.container.name, b.container.name) ||
    byString(a.container.id, b.container.id)
  );
}

function why(winner: Candidate<unknown>, loser: Candidate<unknown>): string {
  if (winner.setter.rank !== loser.setter.rank) return 'a multiports external_http_port takes precedence, as in nginx-proxy';
  if (winner.container.id === loser.container.id) return 'it comes first';
  const cw = winner.container.created;
  const cl = loser.container.created;
  if (cw !== cl && cw !== undefined) return `container ${winner.container.name} was created first`;
  return `both were created at the same time and ${winner.container.name} comes first by name`;
}

/**
 * The value that applies for `what` (a setting name such as VIRTUAL_PROTO) in `scope` (`host a.example` or
 * `host a.example, path /api`), or undefined when no candidate sets it. Conflict warnings are pushed to `issues`.
 */
export function decide<T>(what: string, scope: string, candidates: readonly Candidate<T>[], issues: ContainerIssue[]): T | undefined {
  const sorted = [...candidates].sort(order);
  const [winner] = sorted;
  if (winner === undefined) return undefined;
  const warned = new Set<string>();
  for (const loser of sorted.slice(1)) {
    // Compared parsed (`HTTP` and `http`, `least_conn;` and `least_conn` agree); quoted as written.
    if (JSON.stringify(loser.setter.value) === JSON.stringify(winner.setter.value)) continue;
    const key = `${loser.container.id}\0${loser.setter.source}\0${loser.setter.text}`;
    if (warned.has(key)) continue;
    warned.add(key);
    const by = winner.container.id === loser.container.id ? 'the same container' : `container ${winner.container.name}`;
    const as = (s: Setter<unknown>): string => `${what}=${JSON.stringify(s.text)}${s.source === what ? '' : ` (in ${s.source})`}`;
    issues.push({
      code: 'WARN_SETTING_CONFLICT',
      containerId: loser.container.id,
      containerName: loser.container.name,
      setting: loser.setter.source,
      value: loser.setter.text,
      message:
        `container ${loser.container.name}: ${as(loser.setter)} for ${scope} is not applied: ` +
        `${by} sets ${as(winner.setter)}, which wins because ${why(winner, loser)}`,
    });
  }
  return winner.setter.value;
}
