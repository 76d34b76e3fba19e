import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Refused } from '../core/errors';
import { judge } from '../../runbook/catalogue';
import { acquireLock, readLockHolder } from './lock';

const dir = () => mkdtempSync(join(tmpdir(), 'lock-'));

describe('deploy lock', () => {
  it('a second taker is refused with the holder pid, host and start time', () => {
    const d = dir();
    const l = acquireLock(d, 'deploy');
    writeFileSync(
      join(d, '.deploy.lock'),
      JSON.stringify({ pid: 1, host: hostname(), startedAt: '2026-04-23T11:00:00Z', command: 'npm run deploy' }),
    );
    try {
      acquireLock(d, 'rollback');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(Refused);
      expect((e as Error).message).toMatch(/pid 1 on .* since 2026-04-23T11:00:00Z/);
    }
    l.release();
  });

  it('a stale lock whose holder is gone is reported and taken over', () => {
    const d = dir();
    const dead = spawnSync('true').pid!;
    writeFileSync(
      join(d, '.deploy.lock'),
      JSON.stringify({ pid: dead, host: hostname(), startedAt: 'then', command: 'npm run deploy' }),
    );
    const l = acquireLock(d, 'deploy');
    expect(l.tookOverFrom?.pid).toBe(dead);
    expect(JSON.parse(readFileSync(join(d, '.deploy.lock'), 'utf8')).pid).toBe(process.pid);
    l.release();
  });

  it('a lock from another host is never taken over', () => {
    const d = dir();
    writeFileSync(
      join(d, '.deploy.lock'),
      JSON.stringify({ pid: 999999, host: 'other-host', startedAt: 'then', command: 'npm run deploy' }),
    );
    expect(() => acquireLock(d, 'deploy')).toThrow(/other-host/);
  });
});

describe('the lock check judges what the lock file says after taking it', () => {
  const record = (dir: string, l: ReturnType<typeof acquireLock>) => {
    const h = readLockHolder(dir);
    return {
      holder: h ? { pid: h.pid, host: h.host, started_at: h.startedAt, command: h.command } : null,
      this_run: { pid: l.holder.pid, host: l.holder.host, started_at: l.holder.startedAt },
      took_over: null,
    };
  };
  const settings = { deployBranch: 'master', replicaMaxLagBytes: 1 };

  it("passes on this run's own lock; fails once another run's holder is in the file, or the file is gone", () => {
    const d = dir();
    const l = acquireLock(d, 'npm run deploy');
    expect(judge('deploy.lock', record(d, l), settings)).toBeUndefined();
    writeFileSync(
      join(d, '.deploy.lock'),
      JSON.stringify({ pid: l.holder.pid + 1, host: l.holder.host, startedAt: l.holder.startedAt, command: 'other' }),
    );
    expect(judge('deploy.lock', record(d, l), settings)).toMatch(/held by another run: pid \d+ .*\(other\)/);
    rmSync(join(d, '.deploy.lock'));
    expect(judge('deploy.lock', record(d, l), settings)).toMatch(/gone or unreadable/);
  });
});
