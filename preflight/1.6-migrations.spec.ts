import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { heads, readRevisions } from '../lib/alembic';
import { check } from '../lib/check';
import { target } from '../lib/config';
import { alembicVersion } from '../lib/postgres';

const t = target();

describe('1.6 Pending migrations', () => {
  test('1.6 Current alembic_version recorded; one head in alembic/versions', async (ctx) => {
    const c = check(ctx, { id: 'preflight.1.6', threshold: 'alembic_version readable; exactly one head', action: 'Resolve multiple heads (alembic merge) before deploying' });
    const revisions = await c.probe(() => readRevisions(join(t.projectDir, 'alembic', 'versions')));
    const h = heads(revisions);
    const current = await c.probe(() => alembicVersion(t.databaseUrl)).catch(() => ['none']);
    c.measured({ current: current.join(','), head: h.join(','), pending: !current.includes(h[0] ?? '') });
    expect(h, c.says('heads in alembic/versions')).toHaveLength(1);
  });
});
