import type { ContainerIssue, ContainerIssueCode } from '../routing-table.ts';
import type { ContainerInfo } from './container-info.ts';
import { readSetting, type SettingKey, type SettingValue } from './container-settings.ts';
import type { Parsed } from './parse-settings.ts';

/** The pieces a container plan is built from: values with their source, and the issues found on the way. */

/** A value one container sets for a per-host or per-path setting. */
export interface Setter<T> {
  readonly value: T;
  /** Compared to detect conflicts, and quoted in messages. */
  readonly text: string;
  /** The name it was written under: `VIRTUAL_PROTO`, `berth.proto`, `VIRTUAL_HOST_MULTIPORTS`, ... */
  readonly source: string;
  /**
   * Precedence before the conflict rule: 0 for a multiports `external_http_port` (nginx-proxy processes multiports
   * first, so it beats EXTERNAL_HTTP_PORT), 1 for everything else.
   */
  readonly rank: 0 | 1;
}

/**
 * Not yet in routing-table.ts's ContainerIssueCode (the lead adds it): the container is routed, but a setting it
 * sets is not applied (VIRTUAL_HOST next to VIRTUAL_HOST_MULTIPORTS, multiports `external_https_port`).
 */
export const WARN_SETTING_IGNORED: ContainerIssueCode = 'WARN_SETTING_IGNORED';

export function containerIssue(c: ContainerInfo, code: ContainerIssueCode, setting: string, value: string, reason: string): ContainerIssue {
  return { code, containerId: c.id, containerName: c.name, setting, value, message: `container ${c.name}: ${setting} ${reason}` };
}

/** Collects the ERR issues of one container; any ERR means the container is skipped. */
export class PlanIssues {
  readonly list: ContainerIssue[] = [];
  failed = false;
  constructor(readonly container: ContainerInfo) {}
  add(code: ContainerIssueCode, setting: string, value: string, reason: string): void {
    if (code.startsWith('ERR_')) this.failed = true;
    this.list.push(containerIssue(this.container, code, setting, value, reason));
  }
  /** `setting` parsed, or an ERR issue (code ERR_SETTING_INVALID unless given) and undefined. */
  parse<T>(key: SettingKey, parse: (text: string) => Parsed<T>, code: ContainerIssueCode = 'ERR_SETTING_INVALID'): Setter<T> | undefined {
    const v = readSetting(this.container, key);
    if (v === undefined) return undefined;
    return this.check(v, parse(v.text), code);
  }
  check<T>(v: SettingValue, parsed: Parsed<T>, code: ContainerIssueCode = 'ERR_SETTING_INVALID'): Setter<T> | undefined {
    if (parsed.ok) return { value: parsed.value, text: v.text, source: v.source, rank: 1 };
    this.add(code, v.source, v.text, `is invalid: ${parsed.reason}; container skipped`);
    return undefined;
  }
}

