import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROWS } from '../test/e2e/conformance/rows.ts';
import type { PlaneSupport, Row, Section } from '../test/e2e/conformance/types.ts';

/**
 * The README's compatibility table (setting | nginx-proxy | berth node | berth nginx), generated from the
 * conformance table (test/e2e/conformance/rows*.ts), so the README says exactly what CI runs.
 *
 *   node --import tsx scripts/compat-table.ts           print the table
 *   node --import tsx scripts/compat-table.ts --write   replace it in README.md (between the markers)
 *   node --import tsx scripts/compat-table.ts --check   exit 1 when README.md's table differs
 */

export const START_MARKER = '<!-- compat-table:start -->';
export const END_MARKER = '<!-- compat-table:end -->';

const SECTIONS: ReadonlyArray<readonly [Section, string]> = [
  ['1.1', 'Environment variables of proxied containers'],
  ['1.2', 'Labels of proxied containers (and berth\'s own labels)'],
  ['1.3', 'Environment variables of the proxy'],
  ['1.4', 'Mounted paths'],
  ['1.5', 'Core behaviours'],
];

/** Text for a markdown table cell: one line, `|` escaped. */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

export function supportText(s: PlaneSupport): string {
  if (s === 'supported') return 'yes';
  if (s === 'tls') return 'not yet (TLS issue)';
  if ('supported' in s) return `yes: ${s.supported}`;
  if ('coveredBy' in s) return `yes (tested in \`${s.coveredBy}\`)`;
  return `no: ${s.unsupported}`;
}

/** The generated markdown: one table per section of the reference, in table order. */
export function compatTable(rows: readonly Row[] = ROWS): string {
  const parts: string[] = [];
  for (const [section, title] of SECTIONS) {
    const mine = rows.filter((r) => r.section === section);
    if (mine.length === 0) continue;
    parts.push(`**${title}** (nginx-proxy reference ${section})`, '');
    parts.push('| setting | nginx-proxy | berth node | berth nginx |', '|---|---|---|---|');
    for (const r of mine) {
      parts.push(`| ${cell(r.setting)} | ${cell(r.nginxProxy)} | ${cell(supportText(r.planes.node))} | ${cell(supportText(r.planes.nginx))} |`);
    }
    parts.push('');
  }
  return parts.join('\n').trimEnd();
}

/** The text between the markers (trimmed), or undefined when the markers are missing. */
export function readmeTable(readme: string): string | undefined {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START_MARKER.length, end).trim();
}

/** README text with the table between the markers replaced. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START_MARKER} ... ${END_MARKER} markers`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${table}\n${readme.slice(end)}`;
}

export const README_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

function main(args: readonly string[]): number {
  const table = compatTable();
  if (args.includes('--write')) {
    writeFileSync(README_PATH, withTable(readFileSync(README_PATH, 'utf8'), table));
    return 0;
  }
  if (args.includes('--check')) {
    const current = readmeTable(readFileSync(README_PATH, 'utf8'));
    if (current === table) return 0;
    process.stderr.write('README.md\'s compatibility table differs from the conformance table: run `node --import tsx scripts/compat-table.ts --write`\n');
    return 1;
  }
  process.stdout.write(`${table}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
