import type { LoadBalance } from '../routing-table.ts';
import { NODE_HASH_VARIABLE_PREFIXES, NODE_HASH_VARIABLES } from '../routing-table.ts';
import type { Parsed } from './parse-settings.ts';

/**
 * The `com.github.nginx-proxy.nginx-proxy.loadbalance` label (or `berth.loadbalance`): nginx-proxy pastes it into
 * the `upstream` block, so it holds an nginx balancing directive. berth understands the ones both data planes can
 * honour: `least_conn;`, `ip_hash;`, `hash <key> [consistent];`, `random [two [least_conn]];`. The trailing `;` may
 * be left out. Anything else is refused rather than ignored.
 */

const ACCEPTED = '`least_conn;`, `ip_hash;`, `hash <key> [consistent];` or `random [two [least_conn]];`';
// eslint-disable-next-line no-control-regex
const UNSAFE_KEY_CHAR = /[;{}"'\\#\u0000-\u001f\u007f]/;

export function parseLoadBalance(value: string): Parsed<LoadBalance> {
  const fail = (why: string): Parsed<LoadBalance> => ({ ok: false, reason: `${JSON.stringify(value)} ${why}` });
  const directive = value.trim().replace(/;\s*$/, '').trim();
  if (directive.includes(';')) return fail(`holds several directives; berth takes exactly one of ${ACCEPTED}`);
  const [name, ...args] = directive.split(/\s+/);
  switch (name) {
    case 'least_conn':
    case 'ip_hash':
      return args.length === 0 ? { ok: true, value: { kind: name } } : fail(`has parameters, but ${name} takes none`);
    case 'random':
      if (args.length === 0) return { ok: true, value: { kind: 'random', two: false } };
      // `random two` picks the less loaded of two random servers: least_conn is nginx's default (and only) method.
      if (args[0] === 'two' && (args.length === 1 || (args.length === 2 && args[1] === 'least_conn'))) {
        return { ok: true, value: { kind: 'random', two: true } };
      }
      return fail('is not `random`, `random two` or `random two least_conn`');
    case 'hash': {
      const [key, flag, ...rest] = args;
      if (key === undefined || rest.length > 0 || (flag !== undefined && flag !== 'consistent')) {
        return fail('is not `hash <key>` or `hash <key> consistent` (the key is one word, such as $remote_addr)');
      }
      const bad = UNSAFE_KEY_CHAR.exec(key);
      if (bad) return fail(`has a hash key containing ${JSON.stringify(bad[0])}`);
      return { ok: true, value: { kind: 'hash', key, consistent: flag === 'consistent' } };
    }
    default:
      return fail(`is not a balancing directive berth understands: use ${ACCEPTED}`);
  }
}

/**
 * Why the Node data plane cannot evaluate this `hash` key, or undefined when it can: the key must be one or more
 * variables from NODE_HASH_VARIABLES / NODE_HASH_VARIABLE_PREFIXES, concatenated, with no literal text.
 */
export function nodeUnsupportedHashKey(key: string): string | undefined {
  const known = `${NODE_HASH_VARIABLES.join(', ')}, or ${NODE_HASH_VARIABLE_PREFIXES.map((p) => `${p}<name>`).join(', ')}`;
  if (!/^(\$[A-Za-z0-9_]+)+$/.test(key)) {
    return `the Node data plane hashes only on variables written one after the other (${known}), not on ${JSON.stringify(key)}; use BERTH_MODE=nginx for other keys`;
  }
  for (const variable of key.split('$').slice(1).map((v) => `$${v}`)) {
    const exact = (NODE_HASH_VARIABLES as readonly string[]).includes(variable);
    const prefixed = NODE_HASH_VARIABLE_PREFIXES.some((p) => variable.startsWith(p) && variable.length > p.length);
    if (!exact && !prefixed) {
      return `the Node data plane cannot evaluate ${variable} (it knows ${known}); use BERTH_MODE=nginx`;
    }
  }
  return undefined;
}
