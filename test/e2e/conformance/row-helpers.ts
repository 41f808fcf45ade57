import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { eventually } from '../http-client.ts';
import { ROUTE_WAIT } from './clients.ts';
import { namesIssue } from './runner.ts';
import type { IssueCode, LogLine, PlaneSupports, Row, RowContext } from './types.ts';

/** Shorthands for the row files. */

export const BOTH: PlaneSupports = { node: 'supported', nginx: 'supported' };
export const TLS: PlaneSupports = { node: 'tls', nginx: 'tls' };

/** Both planes refuse the value as the row says (the scenario checks the refusal): the table shows how. */
export function refused(how: string): PlaneSupports {
  return { node: { supported: `refused: ${how}` }, nginx: { supported: `refused: ${how}` } };
}

/** A TLS row: listed in the table, not run (the TLS issue). */
export function tlsRow(id: string, section: Row['section'], setting: string, nginxProxy: string): Row {
  return { id, section, setting, nginxProxy, planes: TLS };
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export const NGINX_PROXY_LABEL = 'com.github.nginx-proxy.nginx-proxy';

/** Waits for the warning that names the container (by key), the issue code and the setting. */
export async function issueLogged(ctx: RowContext, key: string, code: IssueCode, setting: string): Promise<LogLine> {
  const name = ctx.container(key).name;
  return ctx.proxy.waitForLine((l) => namesIssue(l, name, code, setting), 15_000);
}

/** Every warning or error berth logged that mentions the container (by key). */
export async function warningsAbout(ctx: RowContext, key: string): Promise<LogLine[]> {
  const name = ctx.container(key).name;
  return (await ctx.proxy.lines()).filter((l) => (l.level ?? 0) >= 40 && JSON.stringify(l).includes(name));
}

/** Access log lines: every stdout line that is not one of berth's own pino lines. */
export async function accessLines(ctx: RowContext): Promise<LogLine[]> {
  return (await ctx.proxy.lines()).filter((l) => l.raw === true || l.level === undefined);
}

/** Waits for an access log line for which `pred` holds (over its text: raw line, or JSON of a JSON line). */
export async function accessLine(ctx: RowContext, pred: (text: string, line: LogLine) => boolean): Promise<string> {
  return eventually(async () => {
    const lines = await accessLines(ctx);
    const found = lines.find((l) => pred(l.raw === true ? String(l.msg) : JSON.stringify(l), l));
    assert.ok(found, `no such access log line; access log lines so far:\n${lines.slice(-10).map((l) => (l.raw === true ? String(l.msg) : JSON.stringify(l))).join('\n')}`);
    return found.raw === true ? String(found.msg) : JSON.stringify(found);
  }, ROUTE_WAIT);
}

/** `berth render` with berth's own environment: the nginx config berth would write now. */
export async function rendered(ctx: RowContext): Promise<string> {
  const result = await ctx.proxy.cli(['render']);
  assert.equal(result.code, 0, `berth render failed (${result.code}): ${result.stderr.slice(-2000)}`);
  return result.stdout;
}
