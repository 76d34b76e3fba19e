import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logMaxAgeDays, oldLogs, rollbackImages } from './cleanup';
import { appendHistory, saveState } from './rollback-state';

const now = Date.parse('2026-12-07T07:00:00Z');
const aged = (path: string, days: number) => {
  const t = new Date(now - days * 86_400_000);
  utimesSync(path, t, t);
};

describe('the cleanup of 1.4', () => {
  it(`takes *.log files older than ${logMaxAgeDays} days, in every folder but .git, without following links`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-'));
    const outside = mkdtempSync(join(tmpdir(), 'cl-out-'));
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, '.git'));
    for (const [p, days] of [
      ['logs/old.log', 8],
      ['logs/edge.log', logMaxAgeDays - 0.01],
      ['old.txt', 30],
      ['.git/old.log', 30],
      ['api.log', 7.5],
    ] as const) {
      writeFileSync(join(dir, p), 'x');
      aged(join(dir, p), days);
    }
    writeFileSync(join(outside, 'far.log'), 'x');
    aged(join(outside, 'far.log'), 30);
    symlinkSync(outside, join(dir, 'linked'));
    const found = (await oldLogs(dir, now)).map((l) => l.path.slice(dir.length + 1)).sort();
    expect(found).toEqual(['api.log', 'logs/old.log']);
  });

  it('keeps every image .rollback_state and its history name, none twice, "none" never', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-'));
    const state = { PREV_API_IMAGE: 'sha256:a', PREV_MCP_IMAGE: 'none', PREV_SHA: 'abc1234', DEPLOY_TIME: 'x' };
    saveState(dir, state);
    appendHistory(dir, { event: 'deploy', at: 'x', state: { ...state, PREV_API_IMAGE: 'sha256:b' } });
    appendHistory(dir, {
      event: 'rollback-started',
      at: 'x',
      target: { api: 'sha256:a', mcp: 'sha256:c', sha: 's', from: 'f' },
    });
    expect(rollbackImages(dir).sort()).toEqual(['sha256:a', 'sha256:b', 'sha256:c']);
  });
});
