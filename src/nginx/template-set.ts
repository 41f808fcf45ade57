import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { BerthError, errorMessage } from '../errors.ts';
import { nginxEscape } from './escape.ts';

/**
 * The Eta templates that produce nginx config. Built-in ones live in src/templates; a file with the same name in
 * config.nginx.templateDir replaces the built-in one, file by file. Templates include each other by `@<name>`.
 */

export const TEMPLATE_NAMES = [
  'nginx.conf',
  'default.conf',
  'maps',
  'proxy-headers',
  'fallback-server',
  'upstream',
  'server',
  'location',
  'uwsgi-params',
  'fastcgi-params',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const BUILTIN_TEMPLATE_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

export interface TemplateSet {
  readonly eta: Eta;
  /** Template name -> file it was read from. */
  readonly files: ReadonlyMap<TemplateName, string>;
  /** Files taken from the custom template dir. */
  readonly overridden: readonly string[];
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads (and compiles) every template; throws ERR_TEMPLATE_INVALID naming the file that does not compile. */
export async function loadTemplateSet(templateDir: string | undefined): Promise<TemplateSet> {
  // Eta escapes for HTML by default, which is wrong for nginx: `<%= %>` goes through the nginx escaper instead.
  const eta = new Eta({ autoEscape: true, escapeFunction: nginxEscape, autoTrim: [false, 'nl'], cache: true, useWith: false });
  const files = new Map<TemplateName, string>();
  const overridden: string[] = [];
  for (const name of TEMPLATE_NAMES) {
    const custom = templateDir === undefined ? undefined : join(templateDir, `${name}.eta`);
    const customText = custom === undefined ? undefined : await readIfExists(custom);
    const file = customText !== undefined && custom !== undefined ? custom : join(BUILTIN_TEMPLATE_DIR, `${name}.eta`);
    if (customText !== undefined) overridden.push(file);
    const text = customText ?? (await readFile(file, 'utf8'));
    try {
      eta.loadTemplate(`@${name}`, text);
    } catch (err) {
      throw new BerthError('ERR_TEMPLATE_INVALID', `template ${file} does not compile: ${errorMessage(err)}`, { cause: err });
    }
    files.set(name, file);
  }
  return { eta, files, overridden };
}

/**
 * Renders one template. Blank lines and trailing spaces are removed (as docker-gen does), so templates can be
 * laid out freely and the output stays byte-stable. Errors become ERR_TEMPLATE_INVALID naming the files involved.
 */
export function renderTemplate(set: TemplateSet, name: TemplateName, data: object): string {
  let out: string;
  try {
    out = set.eta.render(`@${name}`, data);
  } catch (err) {
    const custom = set.overridden.length > 0 ? ` (custom templates: ${set.overridden.join(', ')})` : '';
    const code = err instanceof BerthError ? err.code : 'ERR_TEMPLATE_INVALID';
    throw new BerthError(code, `rendering template ${set.files.get(name) ?? name} failed${custom}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const lines = out.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  return `${lines.join('\n')}\n`;
}
