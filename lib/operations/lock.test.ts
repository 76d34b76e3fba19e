import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Refused } from '../core/errors';
import { acquireLock } from './lock';

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
