import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { gitState } from '../lib/probes/git';
import { titleOf } from '../runbook/catalogue';

const t = target();

describe('1.1 Git state', () => {
  test(`${titleOf('preflight.1.1')} (${t.deployBranch})`, async (ctx) => {
    const c = check(ctx, 'preflight.1.1');
    const g = await c.probe(() => gitState(t.projectDir));
    c.vouchesFor(g.sha);
    c.judge({
      sha: g.sha,
      branch: g.branch,
      dirty: g.dirty.length,
      ahead: g.ahead,
      behind: g.behind,
      upstream: g.upstream ?? null,
      fetch_error: g.fetchError ?? null,
    });
  });
});
