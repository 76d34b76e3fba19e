import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseRollbackTarget,
  formatState,
  interruptedRollback,
  parseState,
  planDeployState,
  readHistory,
  readState,
  saveState,
  statePath,
  historyPath,
  type ImageRef,
  type RollbackState,
} from './rollback-state';

const img = (id: string, sha?: string, tags: string[] = []): ImageRef => ({
  id,
  tags: sha ? [...tags, `buywhere-api:sha-${sha}`] : tags,
  labels: sha ? { 'org.opencontainers.image.revision': sha } : {},
});
const now = '2026-04-23T11:05:00Z';

describe('.rollback_state format', () => {
  it('round-trips and stays shell-sourceable', () => {
    const d = mkdtempSync(join(tmpdir(), 'rs-'));
    const s = {
      PREV_API_IMAGE: 'sha256:aaa',
      PREV_MCP_IMAGE: 'none',
      PREV_SHA: 'abc1234',
      DEPLOY_TIME: now,
      DEPLOY_SHA: 'def5678',
    };
    saveState(d, s);
    expect(readState(d)).toEqual(s);
    const sourced = execFileSync(
      'bash',
      ['-c', `source ${statePath(d)}; echo "$PREV_API_IMAGE|$PREV_SHA|$DEPLOY_TIME"`],
      { encoding: 'utf8' },
    );
    expect(sourced.trim()).toBe(`sha256:aaa|abc1234|${now}`);
    expect(readHistory(d)).toHaveLength(1);
  });

  it('refuses values that would run code when sourced', () => {
    expect(() =>
      formatState({ PREV_API_IMAGE: '$(rm -rf /)', PREV_MCP_IMAGE: 'none', PREV_SHA: 'x', DEPLOY_TIME: now }),
    ).toThrow(/refusing/);
  });

  it('a partial or foreign file is an error, not a guess', () => {
    expect(() => parseState('PREV_API_IMAGE="x"\n')).toThrow(/PREV_MCP_IMAGE is missing/);
    expect(() => parseState('rm -rf /\n')).toThrow(/unexpected line/);
  });

  it('a torn last history line is ignored', () => {
    const d = mkdtempSync(join(tmpdir(), 'rs-'));
    saveState(d, { PREV_API_IMAGE: 'a', PREV_MCP_IMAGE: 'b', PREV_SHA: 'c', DEPLOY_TIME: now });
    appendFileSync(historyPath(d), '{"event":"dep');
    expect(readHistory(d)).toHaveLength(1);
  });

  it('a second save replaces the state whole and keeps both in history', () => {
    const d = mkdtempSync(join(tmpdir(), 'rs-'));
    saveState(d, { PREV_API_IMAGE: 'a1', PREV_MCP_IMAGE: 'm1', PREV_SHA: 's1', DEPLOY_TIME: now });
    saveState(d, { PREV_API_IMAGE: 'a2', PREV_MCP_IMAGE: 'm2', PREV_SHA: 's2', DEPLOY_TIME: now });
    expect(readFileSync(statePath(d), 'utf8')).toContain('PREV_SHA="s2"');
    expect(readHistory(d).map((h) => h.state?.PREV_SHA)).toEqual(['s1', 's2']);
  });
});

describe('deploy step 1 plan', () => {
  const base = { now, apiCandidates: [] as ImageRef[], mcpCandidates: [] as ImageRef[] };

  it('through a registry, the previous API image is also saved by its digest, and reads back from the file', () => {
    const digest = `127.0.0.1:15000/buywhere-api@sha256:${'d'.repeat(64)}`;
    const p = planDeployState({
      ...base,
      deployedBuild: 'new1111',
      currentApi: { ...img('sha256:old', 'old0000'), digests: [digest] },
    });
    expect(p).toMatchObject({ action: 'write', state: { PREV_API_IMAGE: 'sha256:old', PREV_API_DIGEST: digest } });
    const state = (p as { state: RollbackState }).state;
    expect(parseState(formatState(state))).toEqual(state);
    // On one host there is none, and the file keeps the runbook's own fields only.
    const local = planDeployState({ ...base, deployedBuild: 'new1111', currentApi: img('sha256:old', 'old0000') });
    expect(formatState((local as { state: RollbackState }).state)).not.toContain('PREV_API_DIGEST');
  });

  it('PREV_SHA is the build being replaced, not the one being deployed', () => {
    const p = planDeployState({
      ...base,
      deployedBuild: 'new1111',
      currentApi: img('sha256:old', 'old0000'),
      currentMcp: img('sha256:oldm', 'old0000'),
    });
    expect(p).toMatchObject({
      action: 'write',
      state: {
        PREV_API_IMAGE: 'sha256:old',
        PREV_MCP_IMAGE: 'sha256:oldm',
        PREV_SHA: 'old0000',
        DEPLOY_SHA: 'new1111',
      },
    });
  });

  it('a redeploy of the running SHA keeps a usable saved state', () => {
    const existing = {
      PREV_API_IMAGE: 'sha256:old',
      PREV_MCP_IMAGE: 'sha256:oldm',
      PREV_SHA: 'old0000',
      DEPLOY_TIME: now,
    };
    const p = planDeployState({
      ...base,
      deployedBuild: 'new1111',
      currentApi: img('sha256:new', 'new1111'),
      existing,
    });
    expect(p.action).toBe('keep');
  });

  it('a redeploy with no usable state falls back to the newest other sha- image', () => {
    const p = planDeployState({
      ...base,
      deployedBuild: 'new1111',
      currentApi: img('sha256:new', 'new1111'),
      apiCandidates: [img('sha256:new', 'new1111'), img('sha256:old', 'old0000')],
    });
    expect(p).toMatchObject({ action: 'write', state: { PREV_API_IMAGE: 'sha256:old', PREV_SHA: 'old0000' } });
  });

  it('the fallback is an older build, never a newer one that was rolled back from', () => {
    const current = { ...img('sha256:new', 'new1111'), created: '2026-04-23T10:00:00Z' };
    const newer = { ...img('sha256:bad', 'bad2222'), created: '2026-04-23T11:00:00Z' };
    const p = planDeployState({
      ...base,
      deployedBuild: 'new1111',
      currentApi: current,
      apiCandidates: [newer, current],
    });
    expect(p).toMatchObject({ action: 'write', state: { PREV_API_IMAGE: 'none' } });
  });

  it('a first deploy records that there is nothing to roll back to', () => {
    const p = planDeployState({ ...base, deployedBuild: 'new1111' });
    expect(p).toMatchObject({
      action: 'write',
      state: { PREV_API_IMAGE: 'none' },
      note: expect.stringMatching(/first deploy/),
    });
  });
});

describe('rollback target', () => {
  const state = { PREV_API_IMAGE: 'sha256:old', PREV_MCP_IMAGE: 'sha256:oldm', PREV_SHA: 'old0000', DEPLOY_TIME: now };
  const images = [img('sha256:new', 'new1111'), img('sha256:old', 'old0000')];
  const onlyTheRunningBuild = {
    state: undefined,
    existingIds: new Set(['sha256:new']),
    runningApiIds: new Set(['sha256:new']),
    apiImages: [images[0]!],
    mcpImages: [],
  };

  it('uses .rollback_state when its images exist and are not running', () => {
    const t = chooseRollbackTarget({
      state,
      existingIds: new Set(['sha256:old', 'sha256:oldm', 'sha256:new']),
      runningApiIds: new Set(['sha256:new']),
      apiImages: images,
      mcpImages: [],
    });
    expect(t).toMatchObject({ ok: true, api: 'sha256:old', mcp: 'sha256:oldm', source: '.rollback_state' });
  });

  it('without a state file, the newest prior sha- image, never the running one', () => {
    const t = chooseRollbackTarget({
      state: undefined,
      existingIds: new Set(['sha256:old', 'sha256:new']),
      runningApiIds: new Set(['sha256:new']),
      apiImages: images,
      mcpImages: [],
    });
    expect(t).toMatchObject({ ok: true, api: 'sha256:old', sha: 'old0000' });
  });

  it("without a usable state file, the build the api service's PreviousSpec names comes before any older sha- image", () => {
    const older = img('sha256:older', 'a000000');
    const t = chooseRollbackTarget({
      state: undefined,
      existingIds: new Set(['sha256:old', 'sha256:new', 'sha256:older']),
      runningApiIds: new Set(['sha256:new']),
      apiImages: [images[0]!, older, images[1]!],
      mcpImages: [img('sha256:oldm', 'old0000')],
      previousSpec: images[1],
    });
    expect(t).toMatchObject({ ok: true, api: 'sha256:old', mcp: 'sha256:oldm', sha: 'old0000' });
    expect(t.ok && t.source).toMatch(/^the api service's PreviousSpec \(.rollback_state is missing\)$/);
  });

  it('a PreviousSpec that names the running build (the engine already rolled back) is no target', () => {
    const t = chooseRollbackTarget({ ...onlyTheRunningBuild, previousSpec: images[0] });
    expect(t.ok).toBe(false);
    expect(!t.ok && t.why).toContain("the api service's PreviousSpec is the build running now");
  });

  it('.rollback_state, when usable, wins over PreviousSpec', () => {
    const t = chooseRollbackTarget({
      state,
      existingIds: new Set(['sha256:old', 'sha256:oldm', 'sha256:new', 'sha256:older']),
      runningApiIds: new Set(['sha256:new']),
      apiImages: images,
      mcpImages: [],
      previousSpec: img('sha256:older', 'a000000'),
    });
    expect(t).toMatchObject({ ok: true, api: 'sha256:old', source: '.rollback_state' });
  });

  it('after a rollback, the newer bad build is never the fallback target', () => {
    const good = { ...img('sha256:good', 'g000000'), created: '2026-04-23T10:00:00Z' };
    const bad = { ...img('sha256:bad', 'b000000'), created: '2026-04-23T11:00:00Z' };
    const t = chooseRollbackTarget({
      state: undefined,
      existingIds: new Set(['sha256:good', 'sha256:bad']),
      runningApiIds: new Set(['sha256:good']),
      apiImages: [bad, good],
      mcpImages: [],
    });
    expect(t.ok).toBe(false);
    const older = { ...img('sha256:old', 'o000000'), created: '2026-04-23T09:00:00Z' };
    const t2 = chooseRollbackTarget({
      state: undefined,
      existingIds: new Set(['sha256:good', 'sha256:bad', 'sha256:old']),
      runningApiIds: new Set(['sha256:good']),
      apiImages: [bad, good, older],
      mcpImages: [],
    });
    expect(t2).toMatchObject({ ok: true, api: 'sha256:old' });
  });

  it('nothing usable: refuses and says how to list candidates', () => {
    const t = chooseRollbackTarget(onlyTheRunningBuild);
    expect(t.ok).toBe(false);
    expect(!t.ok && t.action).toMatch(/docker images buywhere-api/);
  });

  it('a state that points at the running image is not a rollback target', () => {
    const t = chooseRollbackTarget({
      state: { ...state, PREV_API_IMAGE: 'sha256:new' },
      existingIds: new Set(['sha256:new']),
      runningApiIds: new Set(['sha256:new']),
      apiImages: [images[0]!],
      mcpImages: [],
    });
    expect(t.ok).toBe(false);
  });

  describe('an unfinished rollback', () => {
    const started = {
      event: 'rollback-started' as const,
      at: now,
      deploySha: 'old0000',
      target: { api: 'sha256:old', mcp: 'sha256:oldm', sha: 'old0000', from: 'buywhere-api:sha-new1111' },
    };
    const deployed = { event: 'deploy' as const, at: now, deploySha: 'new1111', state };

    it('is the last rollback-started record with no deploy or finished rollback after it', () => {
      expect(interruptedRollback([deployed, started])).toEqual(started);
      expect(interruptedRollback([deployed, started, { event: 'deploy-kept-state', at: now }])).toEqual(started);
      expect(interruptedRollback([started, { event: 'rollback', at: now, deploySha: 'old0000' }])).toBeUndefined();
      expect(interruptedRollback([started, deployed])).toBeUndefined();
      expect(interruptedRollback([])).toBeUndefined();
    });

    it('is resumed to the same build, even when that build already runs (killed after its restart)', () => {
      const t = chooseRollbackTarget({
        state,
        interrupted: started,
        existingIds: new Set(['sha256:old', 'sha256:oldm', 'sha256:new']),
        runningApiIds: new Set(['sha256:old']),
        apiImages: images,
        mcpImages: [],
      });
      expect(t).toMatchObject({
        ok: true,
        api: 'sha256:old',
        mcp: 'sha256:oldm',
        sha: 'old0000',
        source: expect.stringMatching(/^resuming the rollback to sha-old0000/),
      });
    });

    it('whose image is gone falls back to the ordinary rules and says why', () => {
      const gone = { ...started, target: { ...started.target, api: 'sha256:gone' } };
      const t = chooseRollbackTarget({
        state,
        interrupted: gone,
        existingIds: new Set(['sha256:old', 'sha256:new']),
        runningApiIds: new Set(['sha256:new']),
        apiImages: images,
        mcpImages: [],
      });
      expect(t).toMatchObject({ ok: true, api: 'sha256:old', source: '.rollback_state' });
      const none = chooseRollbackTarget({
        state: undefined,
        interrupted: gone,
        existingIds: new Set(['sha256:new']),
        runningApiIds: new Set(['sha256:new']),
        apiImages: [images[0]!],
        mcpImages: [],
      });
      expect(!none.ok && none.why).toMatch(/unfinished rollback's image sha256:gone/);
    });
  });
});
