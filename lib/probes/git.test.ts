import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitFailure, gitState } from './git';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@buywhere.invalid', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

describe('gitState', () => {
  let root: string;
  let origin: string;
  let clone: string;
  let other: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'git-state-'));
    origin = join(root, 'origin.git');
    clone = join(root, 'clone');
    other = join(root, 'other');
    git(root, 'init', '-q', '--bare', '-b', 'master', origin);
    git(root, 'clone', '-q', origin, other);
    writeFileSync(join(other, 'a'), '1\n');
    git(other, 'add', 'a');
    git(other, 'commit', '-qm', 'one');
    git(other, 'push', '-q', 'origin', 'master');
    git(root, 'clone', '-q', origin, clone);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a clean branch level with its upstream', async () => {
    const s = await gitState(clone);
    expect(s).toEqual({
      branch: 'master',
      sha: git(clone, 'rev-parse', '--short', 'HEAD'),
      dirty: [],
      upstream: 'origin/master',
      ahead: 0,
      behind: 0,
      fetchError: undefined,
    });
  });

  it('counts changed and untracked files, and commits on either side after fetching', async () => {
    writeFileSync(join(other, 'b'), '2\n');
    git(other, 'add', 'b');
    git(other, 'commit', '-qm', 'two');
    git(other, 'push', '-q', 'origin', 'master');
    writeFileSync(join(clone, 'c'), '3\n');
    git(clone, 'add', 'c');
    git(clone, 'commit', '-qm', 'three');
    writeFileSync(join(clone, 'a'), 'changed\n');
    writeFileSync(join(clone, 'untracked'), 'x\n');
    const s = await gitState(clone);
    expect(s.dirty).toHaveLength(2);
    expect({ ahead: s.ahead, behind: s.behind }).toEqual({ ahead: 1, behind: 1 });
    // Without a fetch the count is against what the last fetch brought.
    expect((await gitState(clone, { fetch: false })).behind).toBe(1);
    git(clone, 'checkout', '-q', '--', 'a');
    rmSync(join(clone, 'untracked'));
  });

  it('a branch without an upstream, never fetched, and a detached HEAD', async () => {
    git(clone, 'checkout', '-q', '-b', 'local');
    rmSync(join(clone, '.git', 'FETCH_HEAD'), { force: true });
    expect(await gitState(clone)).toMatchObject({ branch: 'local', upstream: undefined, ahead: 0, behind: 0 });
    // The remote it does not track is not asked: a fetch would have written FETCH_HEAD.
    expect(existsSync(join(clone, '.git', 'FETCH_HEAD'))).toBe(false);
    git(clone, 'checkout', '-q', '--detach');
    expect(await gitState(clone)).toMatchObject({ branch: 'HEAD', upstream: undefined });
    git(clone, 'checkout', '-q', 'master');
  });

  it('a fetch that fails is reported beside the last known position, not thrown', async () => {
    git(clone, 'remote', 'set-url', 'origin', join(root, 'gone.git'));
    const s = await gitState(clone);
    expect(s.fetchError).toMatch(/git fetch --quiet/);
    // The cause, not git's closing advice.
    expect(s.fetchError).toContain(`'${join(root, 'gone.git')}' does not appear to be a git repository`);
    expect(s.fetchError).not.toMatch(/repository exists/);
    expect(s.upstream).toBe('origin/master');
    git(clone, 'remote', 'set-url', 'origin', origin);
  });
});

describe('gitFailure', () => {
  it("keeps git's fatal and error lines, in order, and drops its advice", () => {
    const out =
      "fatal: 'x.git' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
    expect(gitFailure(out)).toBe(
      "fatal: 'x.git' does not appear to be a git repository; fatal: Could not read from remote repository.",
    );
    expect(gitFailure('error: cannot lock ref\nhint: try again\n')).toBe('error: cannot lock ref');
  });

  it('falls back to the last line, or says git printed nothing', () => {
    expect(gitFailure('something odd\nlast words\n')).toBe('last words');
    expect(gitFailure('\n \n')).toBe('no output');
  });
});
