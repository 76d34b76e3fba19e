import { describe, expect, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { gitState } from '../lib/git';

const t = target();

describe('1.1 Git state', () => {
  test(`1.1 Working tree clean, on ${t.deployBranch}, in sync with its upstream; DEPLOY_SHA recorded`, async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.1', threshold: `clean, on ${t.deployBranch}, 0 ahead / 0 behind`, action: 'Commit or stash, check out the deploy branch and sync it with its upstream' });
    const g = await c.probe(() => gitState(t.projectDir));
    c.measured({ sha: g.sha, branch: g.branch, dirty: g.dirty.length, ahead: g.ahead, behind: g.behind, upstream: g.upstream ?? null });
    expect(g.dirty, c.says(`uncommitted changes in ${t.projectDir}`)).toEqual([]);
    expect(g.branch, c.says('checked-out branch')).toBe(t.deployBranch);
    expect(g.upstream, c.says(`${g.branch} has no upstream, so "fully synced" cannot be shown; set one with git branch -u`)).toBeDefined();
    expect(g.fetchError, c.says('git fetch from the upstream')).toBeUndefined();
    expect({ ahead: g.ahead, behind: g.behind }, c.says(`position against ${g.upstream}`)).toEqual({ ahead: 0, behind: 0 });
  });
});
