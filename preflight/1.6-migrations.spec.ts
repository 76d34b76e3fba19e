import { join } from 'node:path';
import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { dataServices } from '../lib/harness/data-services';
import { heads, readRevisions } from '../lib/probes/alembic';
import { orchestratorFor } from '../lib/operations/orchestrators';
import { alembicState } from '../lib/probes/postgres';
import { titleOf } from '../runbook/catalogue';

const t = target();
const data = dataServices(t);

describe('1.6 Pending migrations', () => {
  test(titleOf('preflight.1.6'), async (ctx) => {
    const c = check(ctx, 'preflight.1.6');
    // The runbook reads alembic_version in the running db container. No running db: nothing to read yet, a skip
    // the gate never counts as a pass. A running db that does not answer is a check that could not run.
    const db = await orchestratorFor(t)
      .services(['db'])
      .catch((err: Error) => c.couldNotCheck(`Docker did not answer (${err.message}); 1.6 could not run`));
    if (db.get('db')?.state !== 'running')
      c.skip(`db of stack ${t.composeProject} is not running: the runbook reads alembic_version from the running db`);
    const revisions = await c.probe(() => readRevisions(join(t.projectDir, 'alembic', 'versions')));
    const h = heads(revisions);
    const state = await c.probe(() => alembicState(data.primary));
    const current = state.table ? state.versions.join(',') : null;
    c.judge({
      current,
      table: state.table,
      known: state.versions.length === 1 && revisions.some((r) => r.revision === state.versions[0]),
      head: h.join(','),
      heads: h.length,
      pending: current !== h[0],
    });
  });
});
