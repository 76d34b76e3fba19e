import { describe, expect, test } from 'vitest';
import { newestBackup } from '../lib/backup';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { run } from '../lib/exec';

const t = target();

describe('1.5 Last backup', () => {
  test('1.5 A backup newer than 24 h exists', async (ctx) => {
    const c = check(ctx, {
      id: 'preflight.1.5',
      threshold: '< 24 h old',
      unit: 'h',
      action: `HOLD — run backup first: ${t.backupCommand.join(' ')} (or RUNBOOK_RUN_BACKUP=1). Do not proceed without a backup`,
    });
    let newest = await c.probe(() => newestBackup(t.backupsDir));
    if ((!newest || newest.ageHours >= 24) && t.runBackup) {
      const [cmd, ...args] = t.backupCommand;
      const r = await c.probe(() => run([cmd!, ...args], { cwd: t.projectDir, timeoutMs: 20 * 60_000 }));
      expect(r.exitCode, c.says(`backup command ${t.backupCommand.join(' ')} exit code`)).toBe(0);
      newest = await c.probe(() => newestBackup(t.backupsDir));
    }
    expect(newest, c.says(`a non-empty backup file in ${t.backupsDir}`)).toBeDefined();
    c.measured(Math.round(newest!.ageHours * 100) / 100, 'h');
    expect(newest!.ageHours, c.says(`age of ${newest!.file} in hours`)).toBeLessThan(24);
  }, 25 * 60_000);
});
