import {
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastRunPath, lastRunProblem, pruneEveryMs, recordStart, recordWritten } from './last-run';

const setup = () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'last-run-key-')), 'evidence.key');
  const reports = mkdtempSync(join(tmpdir(), 'last-run-reports-'));
  return { keyFile, reports };
};

describe('the last run of a phase in a reports folder', () => {
  it("is the run that wrote last: its seal counts, an earlier run's does not", () => {
    const { keyFile, reports } = setup();
    recordWritten(keyFile, reports, 'smoke', '2026-04-23T07:30:00Z', 'hmac-sha256:aa');
    expect(lastRunProblem(keyFile, reports, 'smoke', 'hmac-sha256:aa', '2026-04-23T07:30:00Z')).toBeUndefined();
    recordWritten(keyFile, reports, 'smoke', '2026-04-23T07:40:00Z', 'hmac-sha256:bb');
    expect(lastRunProblem(keyFile, reports, 'smoke', 'hmac-sha256:aa', '2026-04-23T07:30:00Z')).toMatch(
      /that run started 2026-04-23T07:40:00Z, this file's run 2026-04-23T07:30:00Z; an earlier file was put back/,
    );
  });

  it('once a run starts, no earlier evidence counts until it writes', () => {
    const { keyFile, reports } = setup();
    recordWritten(keyFile, reports, 'smoke', '2026-04-23T07:30:00Z', 'hmac-sha256:aa');
    expect(recordStart(keyFile, reports, 'smoke', '2026-04-23T07:40:00Z')).toBeUndefined();
    expect(lastRunProblem(keyFile, reports, 'smoke', 'hmac-sha256:aa', '2026-04-23T07:30:00Z')).toMatch(
      /the last smoke run, started 2026-04-23T07:40:00Z, wrote no evidence/,
    );
  });

  it('is kept per phase and per folder', () => {
    const { keyFile, reports } = setup();
    const other = mkdtempSync(join(tmpdir(), 'last-run-reports-'));
    recordWritten(keyFile, reports, 'smoke', 'a', 's1');
    expect(lastRunProblem(keyFile, reports, 'preflight', 's1', 'a')).toMatch(/no preflight run on this host/);
    expect(lastRunProblem(keyFile, other, 'smoke', 's1', 'a')).toMatch(
      /it was copied here, written by hand, or written before this host recorded its runs/,
    );
  });

  it('lives beside the key, readable by its owner only, and refuses a malformed record', () => {
    const { keyFile, reports } = setup();
    recordWritten(keyFile, reports, 'smoke', 'a', 's1');
    const path = lastRunPath(keyFile, reports, 'smoke');
    expect(dirname(dirname(path))).toBe(dirname(keyFile));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    writeFileSync(path, '{"seal": 42}');
    expect(lastRunProblem(keyFile, reports, 'smoke', 's1', 'a')).toMatch(/is malformed/);
    writeFileSync(path, '{');
    expect(lastRunProblem(keyFile, reports, 'smoke', 's1', 'a')).toMatch(/cannot be read/);
  });

  it('a run that starts in a folder not made yet makes it, and names it by its real path', () => {
    const { keyFile } = setup();
    const real = mkdtempSync(join(tmpdir(), 'last-run-real-'));
    const link = join(mkdtempSync(join(tmpdir(), 'last-run-link-')), 'reports');
    symlinkSync(real, link);
    expect(recordStart(keyFile, join(link, 'new'), 'smoke', 'a')).toBeUndefined();
    expect(existsSync(join(real, 'new'))).toBe(true);
    expect(lastRunProblem(keyFile, join(real, 'new'), 'smoke', 's1', 'x')).toMatch(/the last smoke run, started a/);
  });

  it('forgets the records of folders that are gone when a run starts', () => {
    const { keyFile, reports } = setup();
    const gone = mkdtempSync(join(tmpdir(), 'last-run-reports-'));
    recordWritten(keyFile, gone, 'smoke', 'a', 's1');
    const goneRecord = lastRunPath(keyFile, gone, 'smoke');
    rmSync(gone, { recursive: true });
    recordStart(keyFile, reports, 'preflight', 'b');
    expect(existsSync(goneRecord)).toBe(false);
    expect(readdirSync(dirname(goneRecord))).toEqual([lastRunPath(keyFile, reports, 'preflight').split('/').pop()]);
  });

  it('reads the records to forget them at most once in pruneEveryMs, and again once that has passed', () => {
    const { keyFile, reports } = setup();
    recordStart(keyFile, reports, 'preflight', 'a');
    const gone = mkdtempSync(join(tmpdir(), 'last-run-reports-'));
    recordWritten(keyFile, gone, 'smoke', 'a', 's1');
    const goneRecord = lastRunPath(keyFile, gone, 'smoke');
    rmSync(gone, { recursive: true });
    // Just under the interval since the last pruning: the record stays.
    const marker = join(dirname(keyFile), 'runs.pruned');
    const recent = (Date.now() - pruneEveryMs + 60_000) / 1000;
    utimesSync(marker, recent, recent);
    recordStart(keyFile, reports, 'smoke', 'b');
    expect(existsSync(goneRecord)).toBe(true);
    // Past it: forgotten, and the next pruning is an interval away again.
    const old = (Date.now() - pruneEveryMs - 1000) / 1000;
    utimesSync(marker, old, old);
    recordStart(keyFile, reports, 'gonogo', 'c');
    expect(existsSync(goneRecord)).toBe(false);
    expect(Date.now() - statSync(marker).mtimeMs).toBeLessThan(pruneEveryMs / 2);
  });

  it('a start that cannot be recorded says so rather than throwing', () => {
    const { reports } = setup();
    const blocker = join(mkdtempSync(join(tmpdir(), 'last-run-key-')), 'file');
    writeFileSync(blocker, '');
    expect(recordStart(join(blocker, 'evidence.key'), reports, 'smoke', 'a')).toMatch(
      /the start of this smoke run could not be recorded in .*file\/runs/,
    );
  });
});
