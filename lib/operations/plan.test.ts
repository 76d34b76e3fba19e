import { describe, expect, it } from 'vitest';
import type { Revision } from '../probes/alembic';
import { buildOf, confirm, confirmationFor, deployPlan, formatPlan, rollbackPlan } from './plan';

const rev = (revision: string, down: string | undefined, reversible = true): Revision => ({
  revision,
  downRevisions: down ? [down] : [],
  file: `${revision}.py`,
  reversible,
});
const revisions = [rev('0001', undefined), rev('0002', '0001'), rev('0003', '0002', false), rev('0004', '0003')];
const image = (id: string, sha: string) => ({
  id,
  tags: [`buywhere-api:sha-${sha}`],
  labels: { 'org.opencontainers.image.revision': sha },
});
const running = buildOf(image('sha256:aaaaaaaaaaaaaaaa', 'a111111'), image('sha256:bbbbbbbbbbbbbbbb', 'a111111'));

describe('deploy plan', () => {
  it('names what runs now, what runs after, and the migrations it will run, in order', () => {
    const p = deployPlan({
      running,
      build: 'c333333',
      apiImage: 'buywhere-api',
      mcpImage: 'buywhere-mcp',
      revisions,
      current: ['0002'],
      head: ['0004'],
    });
    expect(p.now).toEqual({ sha: 'a111111', api: 'aaaaaaaaaaaa', mcp: 'bbbbbbbbbbbb' });
    expect(p.after.sha).toBe('c333333');
    expect(p.migrations).toEqual({ direction: 'upgrade', revisions: ['0003', '0004'], irreversible: ['0003'] });
    expect(formatPlan(p)).toMatch(
      /now: +build a111111[\s\S]*after: +build c333333[\s\S]*migrations: upgrade 0003 → 0004 \(no real downgrade: 0003\)/,
    );
  });

  it('no migration when the database is at the head; several heads or an unknown version are said plainly', () => {
    const base = { running, build: 'c333333', apiImage: 'a', mcpImage: 'm', revisions };
    expect(deployPlan({ ...base, current: ['0004'], head: ['0004'] }).migrations).toBeUndefined();
    expect(deployPlan({ ...base, current: ['0004'], head: ['0004', '0005'] }).migrations).toMatch(/2 heads/);
    expect(deployPlan({ ...base, current: [], head: ['0004'] }).migrations).toMatch(/every revision up to 0004/);
    expect(deployPlan({ ...base, current: ['9999'], head: ['0004'] }).migrations).toMatch(/not an ancestor/);
  });

  it('an alembic_version that could not be read is could-not-check, never a database with nothing to migrate', () => {
    const base = { running, build: 'c333333', apiImage: 'a', mcpImage: 'm', revisions, head: ['0004'] };
    const m = deployPlan({ ...base, current: { unreadable: 'service db of buywhere-api is not running' } }).migrations;
    expect(m).toMatch(/^could not check: alembic_version could not be read \(service db .* not running\)/);
    expect(m).not.toMatch(/every revision/);
  });

  it('nothing running yet is shown as such', () => {
    expect(buildOf(undefined, undefined)).toEqual({ sha: 'unknown', api: 'none running', mcp: 'none running' });
  });
});

describe('rollback plan', () => {
  const target = { sha: 'f000000', api: 'sha256:ffffffffffffffff', mcp: undefined };
  it('names the build it restores, and a downgrade with what it crosses', () => {
    const p = rollbackPlan({ running, target, downgradeTo: '0002', revisions, current: ['0004'] });
    expect(p.after).toEqual({ sha: 'f000000', api: 'ffffffffffff', mcp: 'bbbbbbbbbbbb (no previous MCP image)' });
    expect(p.migrations).toEqual({ direction: 'downgrade', revisions: ['0004', '0003'], irreversible: ['0003'] });
    expect(
      rollbackPlan({ running, target, downgradeTo: undefined, revisions, current: ['0004'] }).migrations,
    ).toBeUndefined();
  });

  it('through a registry, the API image is also named by the digest every node pulls', () => {
    const digest = `127.0.0.1:15000/buywhere-api@sha256:${'d'.repeat(64)}`;
    const target = { sha: 'f000000', api: 'sha256:ffffffffffffffff', mcp: undefined, digest };
    const p = rollbackPlan({ running, target, downgradeTo: undefined, revisions, current: ['0004'] });
    expect(p.after.api).toBe(`ffffffffffff (${digest})`);
    expect(formatPlan(p)).toContain(`after:      build f000000, API image ffffffffffff (${digest})`);
  });
});

describe('production confirmation', () => {
  const p = deployPlan({
    running,
    build: 'c3333339abc',
    apiImage: 'a',
    mcpImage: 'm',
    revisions,
    current: ['0004'],
    head: ['0004'],
  });
  it('staging needs none', () => expect(confirm(p, 'staging', undefined)).toEqual({ ok: true }));
  it('production needs the short SHA it puts in place, exactly', () => {
    expect(confirmationFor(p)).toBe('c333333');
    expect(confirm(p, 'production', 'c333333')).toEqual({ ok: true });
    expect(confirm(p, 'production', ' c333333\n')).toEqual({ ok: true });
    const missing = confirm(p, 'production', undefined);
    expect(!missing.ok && missing.why).toMatch(/not confirmed.*RUNBOOK_CONFIRM=c333333 npm run deploy/);
    const wrong = confirm(p, 'production', 'a111111');
    expect(!wrong.ok && wrong.why).toMatch(/"a111111" is not c333333/);
  });
});
