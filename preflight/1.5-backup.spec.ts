import { describe, expect, test } from 'vitest';
import { newestBackup } from '../lib/backup';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { run } from '../lib/exec';
import { entry, titleOf } from '../runbook/catalogue';

const t = target();
const maxAgeH = entry('preflight.1.5').threshold!.value;

describe('1.5 Last backup', () => {
  test(titleOf('preflight.1.5'), async (ctx) => {
    const c = check(ctx, 'preflight.1.5');
    let newest = await c.probe(() => newestBackup(t.backupsDir));
    if ((!newest || newest.ageHours >= maxAgeH) && t.runBackup) {
      const [cmd, ...args] = t.backupCommand;
      const r = await c.probe(() => run([cmd!, ...args], { cwd: t.projectDir, timeoutMs: 20 * 60_000 }));
      expect(r.exitCode, c.says(`backup command ${t.backupCommand.join(' ')} exit code`)).toBe(0);
      newest = await c.probe(() => newestBackup(t.backupsDir));
    }
    c.judge(newest ? { age_h: Math.round(newest.ageHours * 100) / 100, file: newest.file } : { age_h: null, file: null, dir: t.backupsDir });
  }, 25 * 60_000);
});
