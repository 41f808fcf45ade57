import { after, before, describe, it } from 'node:test';
import { cleanupAll, ensureImages } from './docker-cli.ts';
import { e2eModes } from './berth-process.ts';
import { reservePorts, PortPool } from './conformance/names.ts';
import { buildBerthImage } from './conformance/proxy.ts';
import { ROWS } from './conformance/rows.ts';
import { GroupRun, planGroups, runRow, skipReason } from './conformance/runner.ts';

/**
 * The nginx-proxy conformance table (test/e2e/conformance/rows*.ts), run against both data planes
 * (BERTH_E2E_MODES=node,nginx by default) with a real Docker engine, real containers and a real berth. Rows are
 * grouped by berth's environment: a group's containers start once, then one berth per plane serves all its rows;
 * each row is a test named `<row id> [<plane>]`. CONFORMANCE_ROWS=id1,id2 (prefixes) runs only those rows.
 */

const modes = e2eModes();
const only = (process.env['CONFORMANCE_ROWS'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
const selected = only.length === 0 ? ROWS : ROWS.filter((r) => only.some((o) => r.id.startsWith(o)));
const groups = planGroups(selected, new PortPool(await reservePorts(64)));
const needsImage = groups.some((g) => g.berth === 'container');

before(async () => {
  await ensureImages();
  await cleanupAll();
  if (needsImage) await buildBerthImage();
}, { timeout: 420_000 });
after(() => cleanupAll());

groups.forEach((group, index) => {
  describe(`conformance: ${group.title}`, () => {
    const run = new GroupRun(group, index);
    before(() => run.start(), { timeout: 120_000 });
    after(() => run.stop(), { timeout: 60_000 });
    for (const plane of modes) {
      describe(`${plane} data plane`, () => {
        before(() => run.startProxy(plane), { timeout: 90_000 });
        after(() => run.stopProxy(), { timeout: 30_000 });
        for (const planned of group.rows) {
          const skip = skipReason(planned.row.planes[plane]);
          it(`${planned.row.id} [${plane}]`, { timeout: 60_000, ...(skip ? { skip } : {}) }, () => runRow(run, planned, plane));
        }
      });
    }
  });
});

describe('conformance: rows not run here', () => {
  for (const row of selected.filter((r) => r.scenario === undefined)) {
    for (const plane of modes) {
      it(`${row.id} [${plane}]`, { skip: skipReason(row.planes[plane]) ?? 'no scenario' }, () => undefined);
    }
  }
});
