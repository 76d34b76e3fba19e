import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitState } from '../lib/probes/git';
import { layoutProject } from './project';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('layoutProject', () => {
  let root: string;
  let projectDir: string;
  const was = process.env.RUNBOOK_STAGING_DIR;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'staging-layout-'));
    projectDir = join(root, 'buywhere-api');
    process.env.RUNBOOK_STAGING_DIR = projectDir;
  });
  afterAll(() => {
    if (was === undefined) delete process.env.RUNBOOK_STAGING_DIR;
    else process.env.RUNBOOK_STAGING_DIR = was;
    rmSync(root, { recursive: true, force: true });
  });

  it('lays out a clean checkout level with its upstream, and a second layout commits nothing', async () => {
    const paths = await layoutProject({
      baseImage: 'buywhere-staging-base:test',
      appImage: 'buywhere-staging-app:test',
    });
    expect(paths.upstream).toBe(`${projectDir}.upstream.git`);
    expect(await gitState(projectDir)).toMatchObject({ dirty: [], upstream: 'origin/master', ahead: 0, behind: 0 });
    const head = git(projectDir, 'rev-parse', 'HEAD');
    await layoutProject({ baseImage: 'buywhere-staging-base:test', appImage: 'buywhere-staging-app:test' });
    expect(git(projectDir, 'rev-parse', 'HEAD')).toBe(head);
  }, 60_000);

  it('makes the upstream again when it is gone, and points origin at it', async () => {
    const head = git(projectDir, 'rev-parse', 'HEAD');
    rmSync(`${projectDir}.upstream.git`, { recursive: true });
    git(projectDir, 'remote', 'set-url', 'origin', join(root, 'elsewhere.git'));
    const logged: string[] = [];
    await layoutProject({
      baseImage: 'buywhere-staging-base:test',
      appImage: 'buywhere-staging-app:test',
      log: (m) => logged.push(m),
    });
    expect(existsSync(join(`${projectDir}.upstream.git`, 'HEAD'))).toBe(true);
    expect(git(projectDir, 'remote', 'get-url', 'origin')).toBe(`${projectDir}.upstream.git`);
    const s = await gitState(projectDir);
    expect(s).toMatchObject({ dirty: [], upstream: 'origin/master', ahead: 0, behind: 0, fetchError: undefined });
    expect(git(projectDir, 'rev-parse', 'HEAD')).toBe(head);
    expect(logged.join('\n')).toMatch(/made the project's upstream/);
  }, 60_000);

  it('adds origin when the checkout has none', async () => {
    rmSync(`${projectDir}.upstream.git`, { recursive: true });
    git(projectDir, 'remote', 'remove', 'origin');
    await layoutProject({ baseImage: 'buywhere-staging-base:test', appImage: 'buywhere-staging-app:test' });
    expect(git(projectDir, 'remote', 'get-url', 'origin')).toBe(`${projectDir}.upstream.git`);
    expect(await gitState(projectDir)).toMatchObject({ upstream: 'origin/master', ahead: 0, fetchError: undefined });
  }, 60_000);
});
