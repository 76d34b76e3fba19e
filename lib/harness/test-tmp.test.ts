import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { describe, expect, test } from 'vitest';
import setup, { makeTestTmp, removeTestTmp, sweepTestTmp, testTmpPrefix } from './test-tmp';

const root = () => mkdtempSync(join(tmpdir(), 'test-tmp-'));
/** A process number no process has now: one that has just exited. */
const deadPid = () => spawnSync('true').pid!;
const runFolder = (dir: string, pid: number) => {
  const d = join(dir, `${testTmpPrefix}${pid}-Ab12Cd`);
  mkdirSync(join(d, 'runbook-reports-x', 'evidence'), { recursive: true });
  writeFileSync(join(d, 'runbook-reports-x', 'evidence', 'smoke.json'), '{}');
  return d;
};

describe('test run folders', () => {
  test('the harness tests run with TMPDIR set to a run folder of their own', () => {
    expect(basename(tmpdir())).toMatch(new RegExp(`^${testTmpPrefix}\\d+-`));
  });

  test('a new run folder is named for this process, under the root given', () => {
    const r = root();
    const d = makeTestTmp(r);
    expect(existsSync(d)).toBe(true);
    expect(basename(d)).toMatch(new RegExp(`^${testTmpPrefix}${process.pid}-[A-Za-z0-9]{6}$`));
  });

  test("earlier runs' folders go once their process is gone; a live one's, and other folders, stay", () => {
    const r = root();
    const gone = runFolder(r, deadPid());
    const live = runFolder(r, process.ppid);
    const mine = runFolder(r, process.pid);
    mkdirSync(join(r, `${testTmpPrefix}notapid-Ab12Cd`));
    mkdirSync(join(r, 'runbook-reports-Ab12Cd'));
    expect(sweepTestTmp(r)).toEqual([]);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(mine)).toBe(true);
    expect(readdirSync(r).sort()).toEqual(
      [basename(live), basename(mine), `${testTmpPrefix}notapid-Ab12Cd`, 'runbook-reports-Ab12Cd'].sort(),
    );
  });

  test('making a run folder sweeps the leftovers first', () => {
    const r = root();
    const gone = runFolder(r, deadPid());
    makeTestTmp(r);
    expect(existsSync(gone)).toBe(false);
  });

  test('only a folder named as a run folder is ever removed', () => {
    const r = root();
    const other = mkdtempSync(join(r, 'reports-'));
    expect(removeTestTmp(other)).toMatch(/is not a test run's folder; left as it is/);
    expect(existsSync(other)).toBe(true);
    expect(removeTestTmp(undefined)).toMatch(/not a test run's folder/);
    expect(removeTestTmp(r)).toMatch(/not a test run's folder/);
    expect(existsSync(r)).toBe(true);
  });

  test("the global setup's teardown removes the project's run folder, and nothing else", async () => {
    const r = root();
    const d = runFolder(r, process.pid);
    const project = (env: Record<string, string>) => ({ config: { env } }) as unknown as TestProject;
    await setup(project({ TMPDIR: d }))();
    expect(existsSync(d)).toBe(false);
    // Run twice (unit and e2e both tear down): the second finds it gone, and says nothing.
    await setup(project({ TMPDIR: d }))();
    await setup(project({ TMPDIR: r }))();
    await setup(project({}))();
    expect(existsSync(r)).toBe(true);
  });
});
