import { describe, test } from 'vitest';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/run';
import { diskUsage } from '../lib/probes/disk';
import { runCleanup } from '../lib/operations/cleanup';
import { entry, meets, titleOf } from '../runbook/catalogue';

const t = target();
const limit = entry('preflight.1.4').threshold!;

describe('1.4 Disk space', () => {
  test(`${titleOf('preflight.1.4')} on ${t.diskPath}`, async (ctx) => {
    const c = check(ctx, 'preflight.1.4');
    const d = await c.probe(() => diskUsage(t.diskPath));
    if (meets(d.usedPct, limit) || !t.runCleanup) return c.judge({ used_pct: d.usedPct, path: t.diskPath });
    // "Run cleanup before proceeding" (RUNBOOK_RUN_CLEANUP=1), then measure again: the second measure decides.
    const r = await c.probe(() => runCleanup({ projectDir: t.projectDir, apiImage: t.apiImage }));
    const after = await c.probe(() => diskUsage(t.diskPath));
    console.log(
      `1.4 cleanup: ${d.usedPct.toFixed(1)}% → ${after.usedPct.toFixed(1)}% used; freed ${(r.freedBytes / 1e6).toFixed(1)} MB: ${r.containersRemoved} containers, ${r.imagesRemoved} images, ${r.logsRemoved.length} log files${r.kept.length ? `; rollback images kept by tag: ${r.kept.join(', ')}` : ''}`,
    );
    c.judge({
      used_pct: after.usedPct,
      path: t.diskPath,
      cleanup: {
        before_pct: d.usedPct,
        freed_bytes: r.freedBytes,
        containers_removed: r.containersRemoved,
        images_removed: r.imagesRemoved,
        logs_removed: r.logsRemoved.slice(0, 20),
        rollback_images_kept: r.kept,
      },
    });
  });
});
