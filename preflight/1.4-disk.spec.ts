import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/config';
import { diskUsage } from '../lib/probes/disk';
import { titleOf } from '../runbook/catalogue';

const t = target();

describe('1.4 Disk space', () => {
  test(`${titleOf('preflight.1.4')} on ${t.diskPath}`, async (ctx) => {
    const c = check(ctx, 'preflight.1.4');
    const d = await c.probe(() => diskUsage(t.diskPath));
    c.judge({ used_pct: d.usedPct, path: t.diskPath });
  });
});
