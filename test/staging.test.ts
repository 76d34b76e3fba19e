// The staging stack itself: every endpoint over TLS through the staging CA, a real streaming replica,
// PgBouncer's admin console, real backups, reversible migrations, a 1M catalog and the fault switches.
import { readdirSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';
import { compose, composeArgs } from '../lib/probes/compose';
import { get, json } from '../lib/probes/http';
import { queryOnce, replicaStatus } from '../lib/probes/postgres';
import { showPools } from '../lib/probes/pgbouncer';
import { composeFor, waitHttp200 } from '../lib/operations/stack';
import { waitUntil } from '../lib/core/wait';
import { data, resetFaults, setFaults, t } from './support/harness';

const api = (p: string, headers?: Record<string, string>) => get(`${t.apiUrl}${p}`, { caFile: t.caFile, headers });
const body = async (p: string) => {
  const r = json(await api(p));
  if (!r.ok) throw new Error(r.problem);
  return r.value;
};

afterEach(resetFaults);

describe('reference API over TLS, trusted through the staging CA', () => {
  it('GET /health', async () => {
    const r = await api('/health');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ok', build: expect.stringMatching(/^[0-9a-f]{7,40}$/) });
  });

  it('GET /health/detailed reports each dependency', async () => {
    const b = await body('/health/detailed');
    expect(b).toMatchObject({
      status: 'healthy',
      dependencies: { db: 'healthy', db_replica: 'healthy', redis: 'healthy' },
    });
    expect(typeof b.db_response_ms).toBe('number');
  });

  it('GET /v1/products and /v1/search (USD) and /v1/status behind the API key', async () => {
    expect(await body('/v1/products?limit=2')).toMatchObject({
      total: 1_000_001,
      products: [expect.objectContaining({ name: expect.any(String) }), expect.anything()],
    });
    const s = await body('/v1/search?q=laptop&limit=3&currency=USD');
    expect(s.total as number).toBeGreaterThan(0);
    expect(
      (s.products as Array<{ currency: string; price: number }>).every((p) => p.currency === 'USD' && p.price > 0),
    ).toBe(true);
    expect((await api('/v1/status')).status).toBe(401);
    expect((await api('/v1/status', { authorization: 'Bearer wrong' })).status).toBe(401);
    const st = json(await api('/v1/status', { authorization: `Bearer ${t.apiKey.reveal()}` }));
    expect(st.ok && st.value.total_active_products).toBeGreaterThan(1_000_000);
  });

  it('GET /go/B09G9HDHJT is a 302 to amazon.com with the affiliate tag', async () => {
    const r = await api('/go/B09G9HDHJT');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://www.amazon.com/dp/B09G9HDHJT?tag=buywhere-20');
  });

  it('GET /metrics exposes request counts and a latency histogram, and Prometheus scrapes it', async () => {
    // A freshly restarted API has served nothing yet and Prometheus has not scraped it: give it both.
    await api('/health');
    await api('/v1/search?q=laptop&limit=1&currency=USD');
    const m = (await api('/metrics')).text;
    expect(m).toMatch(/http_requests_total\{route="\/health",status="200"\} \d+/);
    expect(m).toMatch(/http_request_duration_seconds_bucket\{route="\/v1\/search",le="0.1\d*"\}/);
    await waitUntil(
      async () => {
        const up = json(await get(`${t.prometheusUrl}/api/v1/query?query=up%7Bjob%3D%22api%22%7D`));
        const text = up.ok ? JSON.stringify(up.value) : 'no answer';
        return /"value":\[[\d.]+,"1"\]/.test(text) ? { ready: true, value: text } : { ready: false, last: text };
      },
      { what: 'Prometheus scrapes the API (up == 1)', timeoutMs: 30_000, intervalMs: 1000 },
    );
  });

  it('the certificate does not verify without the staging CA', async () => {
    await expect(get(`${t.apiUrl}/health`)).rejects.toThrow(/certificate/i);
  });
});

describe('databases', () => {
  it('the replica is in recovery and receives a write made on the primary', async () => {
    const s = await replicaStatus(data.replica);
    expect(s.inRecovery).toBe(true);
    expect(s.walReceiver).toBe('streaming');
    const marker = `e2e-${Date.now()}`;
    await queryOnce(
      data.primary,
      `CREATE TABLE IF NOT EXISTS e2e_marks (m text); INSERT INTO e2e_marks VALUES ('${marker}')`,
      'write',
    );
    await waitUntil(
      async () => {
        const rows = await queryOnce<{ n: number }>(
          data.replica,
          `SELECT count(*)::int AS n FROM e2e_marks WHERE m = '${marker}'`,
          'read',
        );
        return rows[0]!.n === 1 ? { ready: true, value: 1 } : { ready: false, last: 'not replicated yet' };
      },
      { what: 'write visible on the replica', timeoutMs: 10_000 },
    );
    await queryOnce(data.primary, 'DROP TABLE e2e_marks', 'cleanup');
  });

  it('SHOW POOLS answers through the PgBouncer admin user', async () => {
    const pools = await showPools(data.pgbouncer);
    expect(pools.some((p) => p.database === 'catalog')).toBe(true);
  });

  it('the catalog has at least 1,000,000 active products, with iPhones, laptops and B09G9HDHJT', async () => {
    const [r] = await queryOnce<{ active: number; iphones: number; laptops: number; asin: number }>(
      data.primary,
      `SELECT count(*) FILTER (WHERE active)::int AS active,
              count(*) FILTER (WHERE search @@ to_tsquery('simple', 'iphone'))::int AS iphones,
              count(*) FILTER (WHERE category = 'laptops')::int AS laptops,
              count(*) FILTER (WHERE asin = 'B09G9HDHJT')::int AS asin FROM products`,
      'catalog',
    );
    expect(r!.active).toBeGreaterThanOrEqual(1_000_000);
    expect(r!.iphones).toBeGreaterThan(0);
    expect(r!.laptops).toBeGreaterThan(0);
    expect(r!.asin).toBe(1);
  });

  it('alembic upgrade head, downgrade -1, upgrade head round-trips', async () => {
    const p = await composeFor(t);
    const run = async (args: string[]) => {
      const r = await compose(p, composeArgs.runRm(p, 'migrate', ['alembic', ...args]), { timeoutMs: 300_000 });
      expect(r.exitCode, r.output).toBe(0);
      const [v] = await queryOnce<{ version_num: string }>(
        data.primary,
        'SELECT version_num FROM alembic_version',
        'version',
      );
      return v!.version_num;
    };
    expect(await run(['upgrade', 'head'])).toBe('0003_click_log');
    expect(await run(['downgrade', '-1'])).toBe('0002_seed_catalog');
    expect(await run(['upgrade', 'head'])).toBe('0003_click_log');
  });

  it('backup-cron writes a real pg_dump into backups/', () => {
    const dumps = readdirSync(t.backupsDir).filter((f) => /^catalog-.*\.dump$/.test(f));
    expect(dumps.length).toBeGreaterThan(0);
  });
});

describe('fault switches change what the API returns', () => {
  it('slow search', async () => {
    await setFaults({ searchDelayMs: 600 });
    const r = await api('/v1/search?q=tablet&limit=1&currency=USD');
    expect(r.ms).toBeGreaterThanOrEqual(550);
  });
  it('5xx on search', async () => {
    await setFaults({ search5xx: true });
    expect((await api('/v1/search?q=laptop&limit=1&currency=USD')).status).toBe(503);
  });
  it('wrong currency', async () => {
    await setFaults({ wrongCurrency: true });
    const b = await body('/v1/search?q=laptop&limit=2&currency=USD');
    expect((b.products as Array<{ currency: string }>).map((p) => p.currency)).toEqual(['SGD', 'SGD']);
  });
  it('untagged, wrongly tagged and lookalike redirects', async () => {
    await setFaults({ untaggedRedirect: true });
    expect((await api('/go/B09G9HDHJT')).headers.location).toBe('https://www.amazon.com/dp/B09G9HDHJT');
    await setFaults({ untaggedRedirect: false, wrongTag: true });
    expect((await api('/go/B09G9HDHJT')).headers.location).toContain('tag=buywhere-200');
    await setFaults({ wrongTag: false, lookalikeRedirect: true });
    expect((await api('/go/B09G9HDHJT')).headers.location).toContain('amazon.com.evil.example');
  });
  it('degraded detailed health and a failing /health', async () => {
    await setFaults({ degradedHealth: true, healthDown: true });
    const d = await api('/health/detailed');
    expect(d.status).toBe(503);
    expect(JSON.parse(d.text).status).toBe('degraded');
    expect((await api('/health')).status).toBe(503);
  });
  it('emulated network delay on every response', async () => {
    await setFaults({ responseDelayMs: 300 });
    expect((await api('/health')).ms).toBeGreaterThanOrEqual(280);
  });
  it('the admin endpoint rejects unknown switches', async () => {
    await expect(setFaults({ everythingBroken: true })).rejects.toThrow(/unknown fault switch/);
  });
  it('a stopped Redis degrades detailed health', async () => {
    const { withStopped } = await import('./support/harness');
    await withStopped('redis', async () => {
      const d = json(await api('/health/detailed'));
      expect(d.ok && d.value.dependencies).toMatchObject({ redis: 'down' });
    });
    await waitHttp200(`${t.apiUrl}/health`, { caFile: t.caFile, timeoutMs: 30_000 });
  });
});
