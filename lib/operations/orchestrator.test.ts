import { describe, expect, it } from 'vitest';
import { sharedRevision, type Replica } from './orchestrator';

const task = (
  slot: number,
  revision: string | undefined,
  node = 'node-1',
): Replica & { revision: string | undefined } => ({
  service: 'api',
  id: `task${slot}${'0'.repeat(20)}`,
  slot,
  node,
  state: 'running',
  imageId: `sha256:${slot}`,
  revision,
});

describe('sharedRevision: the running build of several replicas', () => {
  it('one container on Compose is its own build', () => {
    const c = {
      service: 'api',
      id: 'c0ffee00000000000000',
      state: 'running',
      imageId: 'sha256:a',
      revision: 'abc1234',
    };
    expect(sharedRevision([c])).toEqual({ revision: 'abc1234' });
  });

  it('every task on one revision is that revision', () => {
    expect(sharedRevision([task(1, 'abc1234'), task(2, 'abc1234'), task(3, 'abc1234')])).toEqual({
      revision: 'abc1234',
    });
  });

  it('tasks that disagree are a problem naming each task, its slot, node and revision', () => {
    const r = sharedRevision([task(1, 'abc1234'), task(2, 'def5678', 'node-2')]);
    expect(r).toEqual({
      problem:
        'the running api replicas disagree on the build: api.1 (task10000000 on node-1) runs abc1234, api.2 (task20000000 on node-2) runs def5678',
    });
  });

  it('a task whose image names no revision is a problem, never skipped', () => {
    expect(sharedRevision([task(1, 'abc1234'), task(2, undefined)])).toEqual({
      problem: 'the image of api.2 (task20000000 on node-1) carries no revision label or sha- tag',
      cannotTell: true,
    });
  });

  it('no running replica is a problem', () => {
    expect(sharedRevision([])).toEqual({ problem: 'no running api replica' });
  });
});
