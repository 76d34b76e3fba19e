import { describe, expect, it } from 'vitest';
import { prerequisitePlan } from './prerequisites';

describe('what demo does about missing prerequisites', () => {
  it('nothing when every tool is there and Docker answers', () => {
    expect(prerequisitePlan({ missing: [], dockerAnswers: true, root: false })).toEqual({ action: 'none' });
  });

  it('as root, installs the Debian packages of the missing tools and starts Docker', () => {
    expect(prerequisitePlan({ missing: ['debootstrap', 'dockerd'], dockerAnswers: false, root: true })).toEqual({
      action: 'install',
      packages: ['debootstrap', 'docker.io'],
      startDocker: true,
    });
  });

  it('as another user, stops naming what is missing and the one command to run', () => {
    const p = prerequisitePlan({ missing: ['docker-compose'], dockerAnswers: false, root: false });
    expect(p).toEqual({
      action: 'stop',
      why: 'missing docker-compose; no Docker engine answers: run `sudo bash .ci/install.sh` once, then `npm run demo` again',
    });
  });
});
