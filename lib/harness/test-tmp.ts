// The harness's own tests make temporary folders by the hundred (reports folders, keys, checkouts, mount points).
// Each run of them makes its folders under one of its own, which this module, as the tests' global setup, removes
// when the run ends. A run that was killed leaves its folder; a later run removes it once no process has the
// number in its name.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestProject } from 'vitest/node';

export const testTmpPrefix = 'buywhere-runbook-run-';
const ours = new RegExp(`^${testTmpPrefix}(\\d+)-[A-Za-z0-9]{6}$`);
const isRunFolder = (dir: string | undefined): dir is string => !!dir && ours.test(basename(dir));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process lives, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `dir` when it is a run folder this module made; otherwise, or when that fails, says why. */
export function removeTestTmp(dir: string | undefined): string | undefined {
  if (!isRunFolder(dir)) return `${dir ?? '(none)'} is not a test run's folder; left as it is`;
  try {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  } catch (err) {
    // A tmpfs a killed test left mounted under it, most often: `umount` it, then remove the folder.
    return `${dir} could not be removed: ${(err as Error).message}`;
  }
}

/** The folders of earlier runs whose process is gone, removed; what could not be, with why. */
export function sweepTestTmp(root = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const m = ours.exec(n);
      return m && Number(m[1]) !== process.pid && !alive(Number(m[1]));
    })
    .flatMap((n) => removeTestTmp(join(root, n)) ?? []);
}

/** A new folder for this run's temporary folders, under `root`, once earlier runs' leftovers are removed. */
export function makeTestTmp(root = tmpdir()): string {
  for (const why of sweepTestTmp(root)) process.stderr.write(`test temporary folders: ${why}\n`);
  return mkdtempSync(join(root, `${testTmpPrefix}${process.pid}-`));
}

/** Global setup of the harness's own tests: their run folder (the project's TMPDIR) goes when the run ends. */
export default function setup(project: TestProject) {
  const dir = project.config.env?.TMPDIR;
  return () => {
    // Another TMPDIR (set by hand, or none) is not this run's to remove, and not worth a word.
    if (!isRunFolder(dir)) return;
    const why = removeTestTmp(dir);
    if (why) process.stderr.write(`test temporary folders: ${why}\n`);
  };
}
