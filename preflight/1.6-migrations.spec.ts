import { join } from 'node:path';
import { describe, test } from 'vitest';
import { heads, readRevisions } from '../lib/probes/alembic';
import { check } from '../lib/harness/check';
import { target } from '../lib/harness/config';
import { alembicVersion } from '../lib/probes/postgres';
import { titleOf } from '../runbook/catalogue';

const t = target();

describe('1.6 Pending migrations', () => {
  test(titleOf('preflight.1.6'), async (ctx) => {
    const c = check(ctx, 'preflight.1.6');
    const revisions = await c.probe(() => readRevisions(join(t.projectDir, 'alembic', 'versions')));
    const h = heads(revisions);
    // Before the first deploy there is no alembic_version to read; the blocking part of 1.6 is the single head.
    const current = await alembicVersion(t.databaseUrl).catch((err: Error) => [
      `unreadable: ${err.message.split('\n')[0]}`,
    ]);
    c.judge({ current: current.join(','), head: h.join(','), heads: h.length, pending: !current.includes(h[0] ?? '') });
  });
});
