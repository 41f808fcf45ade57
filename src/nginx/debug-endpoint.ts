import type { Config } from '../config.ts';
import { berthVersion, DEBUG_PATHS_STRIPPED, debugDocument, type DebugRequest } from '../proxy/debug-endpoint.ts';
import type { VirtualHost } from '../routing-table.ts';
import { DOLLAR_VARIABLE } from './nginx-tokens.ts';

/**
 * nginx-proxy's `location /nginx-proxy-debug` (DEBUG_ENDPOINT, or the debug-endpoint label per host) in the nginx
 * data plane. The document is the Node plane's pure builder (src/proxy/debug-endpoint.ts), so both planes answer the
 * same JSON; here it becomes one nginx string whose only variables are the request fields.
 */

export const DEBUG_PATH = '/nginx-proxy-debug';

/**
 * nginx variables the nginx data plane puts in `request`. `$berth_debug_host` is `$host` unless it holds a
 * character that would break the JSON (nginx accepts `"` and `\` in Host). nginx 1.22 has no `$http3`.
 */
const REQUEST_VARIABLES: Record<keyof DebugRequest, string> = {
  host: 'berth_debug_host',
  https: 'https',
  http2: 'http2',
  http3: '',
  ssl_cipher: 'ssl_cipher',
  ssl_protocol: 'ssl_protocol',
};

const marker = (key: string): string => `@@berth-request-${key}@@`;

/** nginx's config reader refuses a token that does not fit its 4096-byte buffer ("too long parameter"). */
const MAX_TOKEN = 4000;

let version: string | undefined;

/** The document with `vhost.paths` removed and nginx-proxy's warning added. */
function stripped(json: string): string {
  const doc = JSON.parse(json) as { vhost?: Record<string, unknown>; warning?: string };
  if (doc.vhost !== undefined) delete doc.vhost['paths'];
  doc.warning = DEBUG_PATHS_STRIPPED;
  return JSON.stringify(doc);
}

/**
 * `return` arguments for the debug location of `host` (given with the routes the plane serves): `200 '<json>'`,
 * single-quoted (JSON is full of `"`), `\` and `'` escaped, every literal `$` written `${berth_dollar}` so nginx
 * expands nothing but the request variables. The escaping makes the token longer than the document: when it does not
 * fit, the paths are stripped as nginx-proxy strips them above 4000 characters. Undefined if even that does not fit.
 */
export function debugReturnToken(config: Config, host: VirtualHost): string | undefined {
  const request = Object.fromEntries(Object.keys(REQUEST_VARIABLES).map((k) => [k, marker(k)])) as unknown as DebugRequest;
  version ??= berthVersion();
  const json = debugDocument(config, host, request, version);
  for (const doc of [json, stripped(json)]) {
    let text = `${doc.replace(/[\\']/g, (c) => `\\${c}`).replace(/\$/g, `\${${DOLLAR_VARIABLE}}`)}\\n`;
    for (const [key, variable] of Object.entries(REQUEST_VARIABLES)) text = text.split(marker(key)).join(variable === '' ? '' : `\${${variable}}`);
    const token = `200 '${text}'`;
    if (token.length <= MAX_TOKEN) return token;
  }
  return undefined;
}
