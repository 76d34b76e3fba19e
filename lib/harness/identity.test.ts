import { describe, expect, it } from 'vitest';
import { heldThroughout, reconcileBuild, type Identity } from './identity';

const at = (build: string, extra: Partial<Identity> = {}): Identity => ({
  apiOrigin: 'https://localhost:18443',
  mcpOrigin: 'http://127.0.0.1:18080',
  caFingerprint: 'system',
  projectDir: '/srv/app',
  diskPath: '/',
  backupsDir: '/srv/app/backups',
  build,
  buildSources: { docker: build },
  ...extra,
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
