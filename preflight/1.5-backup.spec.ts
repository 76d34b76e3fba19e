import { describe, expect, test } from 'vitest';
import { newestBackup } from '../lib/probes/backup';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/config';
import { run } from '../lib/core/exec';
import { entry, titleOf } from '../runbook/catalogue';

const t = target();
const maxAgeH = entry('preflight.1.5').threshold!.value;
const kind = { pattern: t.backupPattern, format: t.backupFormat };

describe('1.5 Last backup', () => {
  test(
    `${titleOf('preflight.1.5')}: ${t.backupPattern} (${t.backupFormat} format) in ${t.backupsDir}`,
    async (ctx) => {
      const c = check(ctx, 'preflight.1.5');
      let scan = await c.probe(() => newestBackup(t.backupsDir, kind));
      if ((!scan.newest || scan.newest.ageHours >= maxAgeH) && t.runBackup) {
        const [cmd, ...args] = t.backupCommand;
        const r = await c.probe(() => run([cmd!, ...args], { cwd: t.projectDir, timeoutMs: 20 * 60_000 }));
        expect(r.exitCode, c.says(`backup command ${t.backupCommand.join(' ')} exit code`)).toBe(0);
        scan = await c.probe(() => newestBackup(t.backupsDir, kind));
      }
      const ignored = scan.ignored.length ? scan.ignored.slice(0, 5) : [];
      c.judge(
        scan.newest
          ? { age_h: Math.round(scan.newest.ageHours * 100) / 100, file: scan.newest.file, not_backups: ignored }
          : { age_h: null, file: null, dir: t.backupsDir, not_backups: ignored },
      );
    },
    25 * 60_000,
  );
});
