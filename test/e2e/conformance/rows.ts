import { BERTH_LABEL_ROWS } from './rows-berth-labels.ts';
import { ENGINE_ROWS } from './rows-engine.ts';
import { FILE_ROWS } from './rows-files.ts';
import { HOST_ROWS } from './rows-hosts.ts';
import { LABEL_ROWS } from './rows-labels.ts';
import { LOG_ROWS } from './rows-logs.ts';
import { MULTIPORTS_ROWS } from './rows-multiports.ts';
import { NETWORK_ROWS } from './rows-networks.ts';
import { PATH_ROWS } from './rows-paths.ts';
import { PROTO_ROWS } from './rows-protos.ts';
import { PROXY_ROWS } from './rows-proxy.ts';
import { TLS_ROWS } from './rows-tls.ts';
import { VHOST_ROWS } from './rows-vhost.ts';
import type { Row } from './types.ts';

/**
 * The conformance table: every row of nginx-proxy's container contract (reference sections 1.1-1.3, the mounted paths
 * of 1.4 and the core behaviours of 1.5), each with a scenario run against both data planes by test/e2e/conformance.test.ts; TLS rows
 * are listed without a test (the TLS issue). scripts/compat-table.ts turns it into the README's compatibility table.
 */
export const ROWS: readonly Row[] = [
  ...HOST_ROWS,
  ...PATH_ROWS,
  ...PROTO_ROWS,
  ...MULTIPORTS_ROWS,
  ...VHOST_ROWS,
  ...LABEL_ROWS,
  ...BERTH_LABEL_ROWS,
  ...PROXY_ROWS,
  ...ENGINE_ROWS,
  ...FILE_ROWS,
  ...LOG_ROWS,
  ...NETWORK_ROWS,
  ...TLS_ROWS,
];

const ids = new Set<string>();
for (const row of ROWS) {
  if (ids.has(row.id)) throw new Error(`conformance table: duplicate row id ${row.id}`);
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(row.id)) throw new Error(`conformance table: row id ${row.id} is not kebab-case`);
  ids.add(row.id);
}
