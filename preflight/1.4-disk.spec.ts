import { describe, test } from 'vitest';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { diskUsage } from '../lib/disk';
import { titleOf } from '../runbook/catalogue';

const t = target();

describe('1.4 Disk space', () => {
  test(`${titleOf('preflight.1.4')} on ${t.diskPath}`, async (ctx) => {
    const c = check(ctx, 'preflight.1.4');
    const d = await c.probe(() => diskUsage(t.diskPath));
    c.judge({ used_pct: Math.round(d.usedPct * 10) / 10, path: t.diskPath });
  });
});
