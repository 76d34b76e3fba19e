import { describe, expect, it } from 'vitest';
import { BuildAcrossPhases, heldThroughout, reconcileBuild, runningBuildFrom, type Identity } from './identity';

const at = (build: string, extra: Partial<Identity> = {}): Identity => ({
  apiOrigin: 'https://localhost:18443',
  apiLocalOrigin: 'http://127.0.0.1:18000',
  mcpOrigin: 'http://127.0.0.1:18080',
  caFingerprint: 'system',
  projectDir: '/srv/app',
  diskPath: '/',
  backupsDir: '/srv/app/backups',
  build,
  buildSources: { docker: build },
  ...extra,
});

describe('BuildAcrossPhases: the build each phase of one run ran against', () => {
  it('the first phase is measured against the run start, and each later one against the end of the one before', async () => {
    const b = new BuildAcrossPhases(Promise.resolve(at('abc1234')));
    expect((await b.unchangedBy(at('abc1234'))).build).toBe('abc1234');
    const smoke = await b.unchangedBy(at('def5678'));
    expect(smoke.build).toBe('unknown');
    expect(smoke.buildProblem).toBe(
      'the running build changed during the run: abc1234 when it started, def5678 when the phase ended',
    );
  });

  it('a build swapped during one phase and back before the next phase ends stays unknown', async () => {
    const b = new BuildAcrossPhases(Promise.resolve(at('abc1234')));
    await b.unchangedBy(at('abc1234'));
    await b.unchangedBy(at('def5678'));
    expect((await b.unchangedBy(at('abc1234'))).build).toBe('unknown');
  });

  it('after a deploy, the next phase starts from the build the deploy left', async () => {
    const b = new BuildAcrossPhases(Promise.resolve(at('abc1234')));
    expect(b.changedTo(at('def5678')).build).toBe('def5678');
    expect((await b.unchangedBy(at('def5678'))).build).toBe('def5678');
    expect((await b.unchangedBy(at('0a1b2c3'))).build).toBe('unknown');
  });

  it('a start measure that failed is no start: every later phase of the run is unknown, saying why', async () => {
    const b = new BuildAcrossPhases(Promise.reject(new Error('identify failed to load\nstack')));
    const preflight = await b.unchangedBy(at('abc1234'));
    expect(preflight.build).toBe('unknown');
    expect(preflight.buildProblem).toBe(
      'the running build could not be measured as the run started (identify failed to load), so nothing shows it held until abc1234 was measured as the phase ended',
    );
    expect((await b.unchangedBy(at('abc1234'))).build).toBe('unknown');
  });

  it('a run measured at no start takes its first phase end as the start', async () => {
    const b = new BuildAcrossPhases();
    expect((await b.unchangedBy(at('abc1234'))).build).toBe('abc1234');
    expect((await b.unchangedBy(at('def5678'))).build).toBe('unknown');
  });
});

describe('heldThroughout: the build a read-only phase ran against', () => {
  it('the same build at both ends is that build', () => {
    expect(heldThroughout(at('abc1234'), at('abc1234')).build).toBe('abc1234');
  });

  it('a build that changed during the run is unknown, naming both', () => {
    const r = heldThroughout(at('abc1234'), at('def5678'));
    expect(r.build).toBe('unknown');
    expect(r.buildProblem).toBe(
      'the running build changed during the run: abc1234 when it started, def5678 when the phase ended',
    );
  });

  it('a build nobody could name at the start but named at the end is unknown: nothing says what ran meanwhile', () => {
    const start = at('unknown', { buildProblem: 'Docker did not answer' });
    expect(heldThroughout(start, at('abc1234')).build).toBe('unknown');
  });

  it('a build unknown at one end says why there: a second build beside the first names neither', () => {
    const end = at('unknown', {
      buildProblem: 'the running api replicas disagree on the build: api (1) runs abc1234, api (2) runs def5678',
    });
    expect(heldThroughout(at('abc1234'), end).buildProblem).toBe(
      'the running build changed during the run: abc1234 when it started, unknown (the running api replicas disagree on the build: api (1) runs abc1234, api (2) runs def5678) when the phase ended',
    );
    const start = at('unknown', { buildProblem: 'Docker did not answer' });
    expect(heldThroughout(start, at('abc1234')).buildProblem).toBe(
      'the running build changed during the run: unknown (Docker did not answer) when it started, abc1234 when the phase ended',
    );
  });

  it('without a measurement at the start, the end alone is what there is', () => {
    expect(heldThroughout(undefined, at('abc1234')).build).toBe('abc1234');
  });

  it("unknown at both ends keeps the end's own reason", () => {
    const end = at('unknown', { buildProblem: 'no running api container' });
    expect(heldThroughout(at('unknown'), end).buildProblem).toBe('no running api container');
  });
});

describe('reconcileBuild', () => {
  it('short and full SHAs of one commit agree', () => {
    expect(reconcileBuild({ docker: 'abc1234', RUNBOOK_DEPLOY_SHA: 'abc1234def' }).build).toBe('abc1234');
  });
  it('sources that disagree give unknown, naming each', () => {
    const r = reconcileBuild({ docker: 'abc1234', RUNBOOK_DEPLOY_SHA: 'def5678' });
    expect(r.build).toBe('unknown');
    expect(r.buildProblem).toMatch(/docker says abc1234, RUNBOOK_DEPLOY_SHA says def5678/);
  });
});

describe('runningBuildFrom: Docker and RUNBOOK_DEPLOY_SHA', () => {
  const where = 'compose project buywhere-api';
  it('Docker and the setting agree: that build; disagree: none, naming both', () => {
    expect(runningBuildFrom({ revision: 'abc1234' }, 'abc1234def', where).build).toBe('abc1234');
    expect(runningBuildFrom({ revision: 'abc1234' }, 'def5678', where).buildProblem).toMatch(/disagree/);
    expect(runningBuildFrom({ revision: 'abc1234' }, undefined, where)).toEqual({
      build: 'abc1234',
      buildSources: { docker: 'abc1234' },
    });
  });

  it('the setting stands in where Docker cannot tell: it did not answer, or the image carries no revision', () => {
    expect(runningBuildFrom({ unreachable: 'ECONNREFUSED' }, 'abc1234', where).build).toBe('abc1234');
    const unlabelled = { problem: 'the image of api carries no revision label or sha- tag', cannotTell: true };
    expect(runningBuildFrom(unlabelled, 'abc1234', where).build).toBe('abc1234');
    expect(runningBuildFrom(unlabelled, undefined, where)).toMatchObject({
      build: 'unknown',
      buildProblem: 'the image of api carries no revision label or sha- tag (compose project buywhere-api)',
    });
    expect(runningBuildFrom({ unreachable: 'ECONNREFUSED' }, undefined, where).buildProblem).toMatch(
      /Docker did not answer \(ECONNREFUSED\); set RUNBOOK_DEPLOY_SHA where Docker cannot be asked/,
    );
  });

  it('Docker saying no api replica runs, or that they run different builds, is no build whatever the setting says', () => {
    for (const problem of [
      'no running api replica',
      'the running api replicas disagree on the build: api.1 runs abc1234, api.2 runs def5678',
    ]) {
      const r = runningBuildFrom({ problem }, 'abc1234', where);
      expect(r.build).toBe('unknown');
      expect(r.buildProblem).toBe(`${problem} (${where})`);
      expect(r.buildSources).toEqual({ RUNBOOK_DEPLOY_SHA: 'abc1234' });
    }
  });
});
