import { describe, expect, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { diskUsage } from '../lib/disk';

const t = target();

describe('1.4 Disk space', () => {
  test(`1.4 Disk usage of ${t.diskPath} < 85%`, async (ctx) => {
    const c = check(ctx, {
      id: 'preflight.1.4',
      threshold: '< 85%',
      unit: '%',
      action: `HOLD — emergency cleanup: docker system prune -f --volumes=false; find ${t.projectDir} -name "*.log" -mtime +7 -delete`,
    });
    const d = await c.probe(() => diskUsage(t.diskPath));
    c.measured(Math.round(d.usedPct * 10) / 10, '%');
    expect(d.usedPct, c.says(`used space on ${t.diskPath}`)).toBeLessThan(85);
  });
});
