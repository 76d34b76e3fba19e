import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './config';
import { run } from '../core/exec';

const vitest = (...args: string[]) =>
  run([join(repoRoot, 'node_modules', '.bin', 'vitest'), ...args], {
    cwd: repoRoot,
    timeoutMs: 60_000,
    env: { FORCE_COLOR: '0' },
  });
const files = (output: string) =>
  (JSON.parse(output.slice(output.indexOf('['))) as Array<{ file: string; projectName: string }>).map((f) =>
    f.file.replace(`${repoRoot}/`, ''),
  );

describe('a bare vitest runs the unit tests only', { timeout: 60_000 }, () => {
  it('`vitest list` with no arguments lists nothing from deploy/, rollback/, test/ or the other phases', async () => {
    const r = await vitest('list', '--filesOnly', '--json');
    expect(r.exitCode, r.output).toBe(0);
    const listed = files(r.output);
    expect(listed.length).toBeGreaterThan(10);
    expect(listed.filter((f) => /^(deploy|rollback|test|preflight|smoke)\/|\.spec\.ts$/.test(f))).toEqual([]);
  });

  it('a project named on the command line is listed', async () => {
    const r = await vitest(
      'list',
      '--filesOnly',
      '--json',
      '--project',
      'deploy',
      '--project',
      'rollback',
      '--project',
      'e2e',
    );
    expect(r.exitCode, r.output).toBe(0);
    const listed = files(r.output);
    expect(listed).toEqual(
      expect.arrayContaining(['deploy/deploy.spec.ts', 'rollback/rollback.spec.ts', 'test/kill.test.ts']),
    );
  });

  it('a wildcard is not naming it', async () => {
    const r = await vitest('list', '--filesOnly', '--json', '--project', 'd*');
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/No projects matched the filter "d\*"/);
  });

  it('watch mode refuses a phase that changes anything', async () => {
    const r = await vitest('watch', '--project', 'rollback');
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/rollback never runs in watch mode/);
  });
});
